// Calls that used to kill the process (issue 12): each now throws a JavaScript error
// naming the operator and the argument. Before the fixes every case here crashed
// (SIGSEGV, SIGFPE, SIGTRAP) or silently read or wrote outside a tensor.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { op, callOp, randn, zeros, tensor, memory } from '../src/index.js';

const long = (values: number[][] | number[]) => tensor(values, { dtype: 'int64' });

describe('integers that stand for an enum are checked', () => {
  test('dtype code -1 for view.dtype (was SIGFPE)', () => {
    assert.throws(() => op('aten::view.dtype', randn([3, 3]), -1), { name: 'RangeError', message: /aten::view\.dtype: argument 'dtype' = -1 is not a ScalarType/ });
  });
  test('dtype code 18 (ScalarType::Undefined) and 256 (was silently uint8)', () => {
    assert.throws(() => op('aten::view.dtype', randn([3, 3]), 18), /argument 'dtype' = 18 is not a ScalarType/);
    assert.throws(() => op('aten::to.dtype', randn([2]), 256), /aten::to\.dtype: argument 'dtype' = 256 is not a ScalarType/);
  });
  test('memory format 4 for clone (was an abort)', () => {
    assert.throws(() => op('aten::clone', randn([1, 1, 2, 2]), 4), { name: 'RangeError', message: /aten::clone: argument 'memory_format' = 4 is not a MemoryFormat code \(0 to 3\)/ });
  });
  test('layout and device', () => {
    assert.throws(() => op('aten::zeros', [2], null, 7), /aten::zeros: argument 'layout' = 7 is not a Layout code/);
    assert.throws(() => op('aten::zeros', [2], null, null, 'xla'), /aten::zeros: argument 'device': 'xla' is not a device/);
  });
  test('valid codes still work', () => {
    assert.equal(op<ReturnType<typeof randn>>('aten::to.dtype', randn([2]), 4).dtype, 'int64');
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::clone', randn([1, 1, 2, 2]), 2).shape, [1, 1, 2, 2]);
  });
});

describe('int64 arguments', () => {
  test('a number at or above 2^63 is refused (it wrapped)', () => {
    assert.throws(() => op('aten::ones', [2 ** 63]), { name: 'RangeError', message: /aten::ones: argument 'size' = 9223372036854775808.* outside the int64 range/ });
    assert.throws(() => op('aten::ones', [-(2 ** 64)]), /outside the int64 range/);
  });
  test('a BigInt above 2^63 is refused (2^64 + 3 became 3)', () => {
    assert.throws(() => op('aten::ones', [2n ** 64n + 3n]), { name: 'RangeError', message: /argument 'size' = 18446744073709551619n is outside the int64 range/ });
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::ones', [3n]).shape, [3]);
  });
});

describe('meta tensors', () => {
  test('a huge meta tensor is not counted as memory (it killed Node through V8 external memory)', () => {
    const before = memory().numBytes;
    const t = zeros([2 ** 40, 2 ** 20], { device: 'meta' });
    assert.deepEqual(t.shape, [2 ** 40, 2 ** 20]);
    assert.equal(memory().numBytes, before);
    const u = t.add(1);
    assert.equal(u.device, 'meta');
    t.dispose();
    u.dispose();
  });
});

describe('views from explicit sizes and strides stay inside the storage', () => {
  test('_reshape_alias with a stride of 2^31 (was SIGSEGV)', () => {
    assert.throws(() => op('aten::_reshape_alias', randn([4]), [2, 2], [2 ** 31, 1]), { name: 'RangeError', message: /aten::_reshape_alias: sizes \[2, 2\] with strides \[2147483648, 1\] at offset 0 reach past the 16 bytes/ });
  });
  test('_reshape_alias with small strides past the end (read garbage)', () => {
    assert.throws(() => op('aten::_reshape_alias', randn([4]), [2, 2], [3, 1]), /reach past the 16 bytes/);
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::_reshape_alias', tensor([1, 2, 3, 4]), [2, 2], [2, 1]).toArray(), [[1, 2], [3, 4]]);
  });
  test('as_strided and set_ check the same way', () => {
    assert.throws(() => op('aten::as_strided', randn([4]), [3], [2], 0), /aten::as_strided: .* reach past the 16 bytes/);
    assert.throws(() => op('aten::as_strided', randn([4]), [2], [-1]), /stride\[0\] = -1 is negative/);
    assert.throws(() => op('aten::set_.source_Tensor_storage_offset', randn([2]), randn([4]), 2, [3]), /aten::set_\.source_Tensor_storage_offset: .* reach past the 16 bytes/);
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::as_strided', tensor([1, 2, 3, 4]), [2], [2], 1).toArray(), [2, 4]);
  });
});

describe('operators whose inputs libtorch does not check (src/tensor/unchecked-ops.ts)', () => {
  test('_local_scalar_dense of an empty tensor (was SIGSEGV)', () => {
    assert.throws(() => op('aten::_local_scalar_dense', randn([0])), { name: 'RangeError', message: /aten::_local_scalar_dense: argument 'self' has 0 elements, expected 1/ });
    assert.equal(op('aten::_local_scalar_dense', tensor([2.5])), 2.5);
  });
  const logProbs = () => randn([5, 1, 4]).logSoftmax(2);
  test('ctc_loss with out-of-range targets (SIGSEGV when far, garbage when near)', () => {
    assert.throws(() => op('aten::ctc_loss.IntList', logProbs(), long([[1, 2, 2 ** 40]]), [5], [3]), { name: 'RangeError', message: /aten::ctc_loss\.IntList: argument 'targets' holds 1099511627776/ });
    assert.throws(() => op('aten::ctc_loss.IntList', logProbs(), long([[1, 2, 7]]), [5], [3]), /argument 'targets' holds 7 at flat index 2, outside the 4 classes/);
    assert.throws(() => op('aten::ctc_loss.Tensor', logProbs(), long([[1, 2, 7]]), long([5]), long([3])), /aten::ctc_loss\.Tensor: argument 'targets' holds 7/);
  });
  test('ctc_loss with negative lengths (SIGSEGV when far, garbage when near)', () => {
    assert.throws(() => op('aten::ctc_loss.IntList', logProbs(), long([[1, 2, 3]]), [-(2 ** 40)], [3]), /argument 'input_lengths'\[0\] = -1099511627776 is outside \[0, 5\]/);
    assert.throws(() => op('aten::ctc_loss.IntList', logProbs(), long([[1, 2, 3]]), [5], [-1]), /argument 'target_lengths'\[0\] = -1 is outside \[0, 3\]/);
  });
  test('ctc_loss with good arguments still computes', () => {
    const loss = op<ReturnType<typeof randn>>('aten::ctc_loss.IntList', logProbs(), long([[1, 2, 3]]), [5], [3]);
    assert.ok(Number.isFinite(loss.item()));
  });
  test('max_unpool2d/3d with an empty output_size (was SIGSEGV)', () => {
    assert.throws(() => op('aten::max_unpool2d', randn([1, 1, 2, 2]), zeros([1, 1, 2, 2], { dtype: 'int64' }), []), /aten::max_unpool2d: argument 'output_size' must have 2 entries \(or 1\), got 0/);
    const x = randn([1, 1, 2, 2, 2]);
    const idx = zeros([1, 1, 2, 2, 2], { dtype: 'int64' });
    assert.throws(() => op('aten::max_unpool3d', x, idx, [], [2, 2, 2], [0, 0, 0]), { name: 'RangeError', message: /aten::max_unpool3d: argument 'output_size' must have 3 entries \(or 1\), got 0/ });
    assert.throws(() => op('aten::max_unpool3d', x, idx, [0, 4, 4], [2, 2, 2], [0, 0, 0]), /argument 'output_size' = \[0, 4, 4\] must be positive/);
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::max_unpool3d', x, idx, [4, 4, 4], [2, 2, 2], [0, 0, 0]).shape, [1, 1, 4, 4, 4]);
  });
  test('_sparse_coo_tensor_unsafe is refused (to_dense wrote outside the tensor)', () => {
    assert.throws(() => op('aten::_sparse_coo_tensor_unsafe', long([[0, 2 ** 40]]), randn([2]), [3]), /aten::_sparse_coo_tensor_unsafe is refused by selfsup: skips the check that indices fit/);
    assert.throws(() => op('aten::sparse_coo_tensor.indices', long([[0, 2 ** 40]]), randn([2]), [3]), /aten::sparse_coo_tensor\.indices/);
  });
  test('other private operators are refused, through op() and callOp()', () => {
    assert.throws(() => op('aten::_stack', [], 0), /aten::_stack is refused by selfsup: it is a private ATen operator that does not check its inputs/);
    assert.throws(() => callOp('aten::_fft_r2c', [randn([1]).handle, [0, 1], 4, true]), /aten::_fft_r2c is refused by selfsup: it is a private ATen operator/);
  });
  test('backward kernels, quantized kernels and other namespaces are refused', () => {
    assert.throws(() => op('aten::matrix_exp_backward', randn([]), randn([])), /aten::matrix_exp_backward is refused by selfsup/);
    assert.throws(() => op('aten::quantized_lstm_cell', randn([3]), [], randn([3]), randn([3])), /aten::quantized_lstm_cell is refused by selfsup: it is a quantized-inference kernel/);
    assert.throws(() => op('quantized::embedding_bag_2bit_prepack', randn([4, 2, 0])), /quantized::embedding_bag_2bit_prepack is refused by selfsup: it is outside the aten namespace/);
  });
  test('binomial with a NaN count and polynomials of degree 2^53 (never ended)', () => {
    assert.throws(() => op('aten::binomial', tensor([NaN, 2]), tensor([0.5, 0.5])), /aten::binomial: argument 'count' holds NaN/);
    assert.throws(() => op('aten::special_shifted_chebyshev_polynomial_w.n_scalar', randn([4]), 2 ** 53 + 2), /argument 'n' = 9007199254740994 is more than 1048576/);
    assert.equal(op<ReturnType<typeof randn>>('aten::special_chebyshev_polynomial_t.n_scalar', tensor([0.5]), 2).item(), -0.5);
  });
  test('native_batch_norm and batch_norm_update_stats of an empty input (were SIGFPE)', () => {
    assert.throws(() => op('aten::native_batch_norm', zeros([0, 3, 3]), null, null, null, null, true, 0.1, 1e-5), /aten::native_batch_norm: argument 'input' is empty/);
    assert.throws(() => op('aten::native_batch_norm', randn([2, 3]), randn([4]), null, null, null, true, 0.1, 1e-5), /argument 'weight' has shape \[4\], expected \[3\]/);
    assert.equal(op<ReturnType<typeof randn>[]>('aten::native_batch_norm', randn([2, 3]), randn([3]), null, null, null, true, 0.1, 1e-5).length, 3);
    assert.throws(() => op('aten::batch_norm_update_stats', randn([5, 0]), randn([3]), randn([3]), 0.1), /aten::batch_norm_update_stats: argument 'input' is empty/);
  });
  test('native_channel_shuffle with groups <= 0 or not dividing the channels (was SIGFPE)', () => {
    assert.throws(() => op('aten::native_channel_shuffle', randn([1, 4, 2]), 0), /aten::native_channel_shuffle: argument 'groups' must be positive, got 0/);
    assert.throws(() => op('aten::native_channel_shuffle', randn([1, 2]), 4), /argument 'groups' = 4 does not divide the 2 channels/);
  });
  test('int[N] lists of the wrong length (slow_conv3d read past kernel_size), negative strides (slow_conv3d_forward: SIGFPE)', () => {
    assert.throws(() => op('aten::slow_conv3d', randn([1, 1, 4, 4, 4]), randn([1, 1, 2, 2, 2]), [2, 1]), /aten::slow_conv3d: argument 'kernel_size' must have 3 entries \(or 1\), got 2/);
    assert.deepEqual(op<ReturnType<typeof randn>>('aten::slow_conv3d', randn([1, 1, 4, 4, 4]), randn([1, 1, 2, 2, 2]), 2).shape, [1, 1, 3, 3, 3]);
    assert.throws(() => op('aten::slow_conv3d_forward', randn([5, 1, 1]), randn([5, 1, 1]), 5, null, [3, 5, -1], [4, 4, 0]), /aten::slow_conv3d_forward: argument 'stride' = \[3, 5, -1\] must be positive/);
  });
});

describe('worker threads', () => {
  test('four threads looking up operators and running ops at once (the operator table raced)', async () => {
    const script = fileURLToPath(new URL('./support/op-table-worker.js', import.meta.url));
    for (let round = 0; round < 3; round++) {
      const runs = Array.from({ length: 4 }, (_, w) => new Promise<number>((resolve, reject) => {
        const worker = new Worker(script, { workerData: { offset: round * 13 + w * 31, rounds: 3 } });
        let looked = -1;
        worker.on('message', (n: number) => { looked = n; });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 && looked > 0 ? resolve(looked) : reject(new Error(`worker exited with ${code}`))));
      }));
      const looked = await Promise.all(runs);
      assert.ok(looked.every((n) => n > 100), `calls per worker: ${looked.join(', ')}`);
    }
  });
});
