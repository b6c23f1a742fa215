// Errors: libtorch failures become JS Errors naming the op and the argument shapes, wrong
// argument types become TypeErrors, and none of them takes the process down.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as S from '../src/index.js';
import { F, tensor, zeros, ones, cat, stack, einsum, tidy, memory, setNumThreads, Generator } from '../src/index.js';

/** Asserts `fn` throws an Error (not a TypeError) whose message matches every pattern. */
function throwsLibtorch(fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, 'expected an Error');
  assert.ok(!(caught instanceof TypeError), `expected a libtorch Error, got TypeError: ${caught.message}`);
  for (const p of patterns) assert.match(caught.message, p);
  assert.doesNotMatch(caught.message, /frame #\d|Exception raised from/, 'no C++ backtrace in the message');
}

const long = (values: number[]): S.Tensor => tensor(values, { dtype: 'int64' });

describe('libtorch errors name the op and the argument shapes', () => {
  test('matmul shape mismatch', () => {
    throwsLibtorch(() => zeros([2, 3]).matmul(zeros([4, 5])), /aten::matmul/, /\[2, 3\] Float/, /\[4, 5\] Float/, /cannot be multiplied \(2x3 and 4x5\)/);
    throwsLibtorch(() => zeros([2, 3, 4]).bmm(zeros([3, 4, 5])), /aten::bmm/, /\[2, 3, 4\]/, /\[3, 4, 5\]/);
    throwsLibtorch(() => F.linear(zeros([2, 3]), zeros([4, 5])), /aten::linear/, /input=\[2, 3\]/, /weight=\[4, 5\]/);
  });

  test('conv2d with the wrong channel count', () => {
    throwsLibtorch(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), /aten::conv2d/, /input=\[1, 3, 8, 8\]/, /weight=\[4, 2, 3, 3\]/, /expected input\[1, 3, 8, 8\] to have 2 channels, but got 3/);
  });

  test('cat of mismatched shapes', () => {
    throwsLibtorch(() => cat([zeros([2, 3]), zeros([2, 4])]), /aten::cat/, /tensors=\[\[2, 3\] Float, \[2, 4\] Float\]/, /Sizes of tensors must match/);
    throwsLibtorch(() => stack([zeros([2]), zeros([3])]), /aten::stack/, /\[2\] Float, \[3\] Float/);
  });

  test('index out of range', () => {
    throwsLibtorch(() => zeros([3, 4]).select(0, 5), /aten::select/, /\[3, 4\]/, /index 5 out of range/);
    throwsLibtorch(() => zeros([3, 4]).indexSelect(0, long([7])), /aten::index_select/, /self=\[3, 4\] Float/, /index=\[1\] Long/, /out of range/);
    throwsLibtorch(() => zeros([3, 4]).gather(1, long([9]).reshape(1, 1)), /aten::gather/, /index 9 is out of bounds/);
    throwsLibtorch(() => F.embedding(long([9]), zeros([3, 2])), /aten::embedding/, /weight=\[3, 2\]/, /out of range/);
    throwsLibtorch(() => zeros([2, 3]).sum(5), /aten::sum/, /Dimension out of range/);
    throwsLibtorch(() => zeros([2]).index([long([2])]), /aten::index/, /out of bounds/);
  });

  test('view of a non-contiguous tensor', () => {
    throwsLibtorch(() => zeros([3, 4]).T.view(12), /aten::view/, /self=\[4, 3\] Float/, /size=\[12\]/, /Use \.reshape/);
    assert.deepEqual(zeros([3, 4]).T.reshape(12).shape, [12], 'reshape copies instead');
  });

  test('crossEntropy with a bad target dtype or value', () => {
    throwsLibtorch(() => F.crossEntropy(zeros([4, 5]), zeros([4])), /aten::cross_entropy_loss/, /self=\[4, 5\] Float/, /target=\[4\] Float/, /expected scalar type Long but found Float/);
    throwsLibtorch(() => F.crossEntropy(zeros([4, 5]), tensor([1, 2, 3, 4], { dtype: 'int32' })), /target=\[4\] Int/, /found Int/);
    throwsLibtorch(() => F.crossEntropy(zeros([4, 5]), long([1, 2, 3, 9])), /Target 9 is out of bounds/);
  });

  test('other shape errors', () => {
    throwsLibtorch(() => zeros([2, 3]).add(zeros([4])), /aten::add\.Tensor/, /size of tensor a \(3\) must match the size of tensor b \(4\)/);
    throwsLibtorch(() => zeros([2, 3]).reshape(4, 2), /aten::reshape/, /invalid for input of size 6/);
    throwsLibtorch(() => F.maxPool2d(zeros([1, 1, 4, 4]), 9), /aten::max_pool2d/, /Output size is too small/);
    throwsLibtorch(() => einsum('ij,jk->ik', zeros([2, 3]), zeros([4, 5])), /aten::einsum/);
    throwsLibtorch(() => S.arange(0, 5, 0), /step must be nonzero/);
    throwsLibtorch(() => tensor([2]).bernoulli(), /aten::bernoulli/);
  });

  test('autograd errors', () => {
    throwsLibtorch(() => zeros([2], { requiresGrad: true }).mul(2).backward(), /backward\(\[2\] Float\)/, /only for scalar outputs/);
    throwsLibtorch(() => zeros([1]).sum().backward(), /does not require grad/);
    const w = ones([1], { requiresGrad: true });
    throwsLibtorch(() => w.add_(1), /leaf Variable that requires grad/);
    throwsLibtorch(() => tensor([1], { dtype: 'int64' }).requiresGrad_(), /requiresGrad\(\[1\] Long\)/, /floating point/);
    const y = w.mul(w).sum(); // mul saves w for backward, and the first backward frees it
    y.backward();
    throwsLibtorch(() => y.backward(), /second time/);
  });

  test('unknown operators and wrong arity through op()', () => {
    assert.throws(() => S.op('aten::no_such_op', zeros([1])), /libtorch has no operator aten::no_such_op/);
    assert.throws(() => S.op('aten::add.Tensor', zeros([1])), { name: 'TypeError', message: /aten::add\.Tensor: missing argument 'other'/ });
    assert.throws(() => S.op('aten::relu', zeros([1]), 1, 2), { name: 'TypeError', message: /expected at most 1 arguments, got 3/ });
  });
});

describe('wrong argument types are TypeErrors', () => {
  test('a string where a tensor is expected', () => {
    const x = zeros([2]);
    assert.throws(() => x.add('x' as never), { name: 'TypeError', message: /add: 'other' must be a Tensor or a number, got string x/ });
    assert.throws(() => x.matmul('x' as never), { name: 'TypeError', message: /matmul: 'other' must be a Tensor/ });
    assert.throws(() => F.conv2d('x' as never, zeros([1])), { name: 'TypeError', message: /conv2d: 'input' must be a Tensor/ });
    assert.throws(() => cat([x, 'x' as never]), { name: 'TypeError', message: /cat: 'tensors\[1\]' must be a Tensor/ });
    assert.throws(() => x.gather(0, [1] as never), { name: 'TypeError', message: /gather: 'index' must be a Tensor, got an array/ });
    assert.throws(() => x.backward('x' as never), { name: 'TypeError', message: /backward: 'gradient' must be a Tensor/ });
    assert.throws(() => F.crossEntropy(zeros([1, 2]), 'x' as never), { name: 'TypeError', message: /crossEntropy: 'target' must be a Tensor/ });
    assert.throws(() => x.where('x' as never, 1), { name: 'TypeError', message: /aten::where\.ScalarOther: condition: expected a tensor handle/ });
    assert.throws(() => F.mseLoss('a' as never, x), { name: 'TypeError', message: /aten::mse_loss: self: expected a tensor handle/ });
    assert.throws(() => S.rand([2], { generator: { handle: 5 } as never }), { name: 'TypeError', message: /must be a Generator/ });
  });

  test('non-integer dims and shapes', () => {
    const x = zeros([2, 3]);
    assert.throws(() => x.sum(1.5), { name: 'TypeError', message: /sum: expected an integer or an array of integers, got number 1\.5/ });
    assert.throws(() => x.mean([0, 0.5]), { name: 'TypeError', message: /mean: expected an integer/ });
    assert.throws(() => x.reshape(2.5, 2), { name: 'TypeError', message: /reshape/ });
    assert.throws(() => x.permute([0, 'a' as never]), { name: 'TypeError', message: /permute/ });
    assert.throws(() => x.flip('0' as never), { name: 'TypeError', message: /flip: expected an integer/ });
    assert.throws(() => x.softmax('1' as never), { name: 'TypeError', message: /aten::softmax\.int: argument 'dim' must be an integer/ });
    assert.throws(() => x.slice(0, '1' as never), { name: 'TypeError', message: /argument 'start' must be an integer/ });
    assert.throws(() => zeros('abc' as never), { name: 'TypeError', message: /zeros: shape must be an array of non-negative integers/ });
    assert.throws(() => zeros([2.5]), TypeError);
    assert.throws(() => F.maxPool2d(x.reshape(1, 1, 2, 3), 'x' as never), { name: 'TypeError', message: /kernel_size' must be an array/ });
    assert.throws(() => zeros([2], { dtype: 'float128' as never }), { name: 'TypeError', message: /unknown dtype 'float128'/ });
    assert.throws(() => setNumThreads(0), RangeError);
    assert.throws(() => x.item(), RangeError);
    assert.throws(() => x.size(2), RangeError);
  });

  test('non-integer dims passed straight to the op are refused, not truncated', () => {
    const x = zeros([2, 3]);
    assert.throws(() => x.transpose(0.5, 1), TypeError);
    assert.throws(() => x.unsqueeze(0.5), TypeError);
    assert.throws(() => x.select(0, 1.5), TypeError);
    assert.throws(() => x.max(0.5), TypeError);
    assert.throws(() => x.softmax(0.5), TypeError);
    assert.throws(() => x.select(0, NaN), TypeError);
  });

  test('assigning a gradient of the wrong shape or dtype is refused', () => {
    const w = zeros([3], { requiresGrad: true });
    assert.throws(() => { w.grad = zeros([2]); }, /size|shape/);
    assert.throws(() => { w.grad = zeros([3], { dtype: 'int64' }); }, /type/);
  });
});

describe('the process survives', () => {
  test('ops keep working after all the errors above, and nothing leaked', () => {
    const before = memory().numTensors;
    tidy(() => {
      for (let i = 0; i < 50; i++) {
        assert.throws(() => zeros([2, 3]).matmul(zeros([4, 5])));
        assert.throws(() => F.conv2d(zeros([1, 3, 4, 4]), zeros([1, 2, 3, 3])));
      }
      assert.deepEqual(tensor([[1, 2]]).matmul(tensor([[3], [4]])).toArray(), [[11]]);
    });
    assert.equal(memory().numTensors, before);
  });

  test('a child process hitting a batch of errors exits 0', () => {
    const script = `
      const S = await import(process.env.SELFSUP_INDEX);
      const { F, tensor, zeros, ones, cat } = S;
      const attempts = [
        () => zeros([2, 3]).matmul(zeros([4, 5])),
        () => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])),
        () => cat([zeros([2, 3]), zeros([2, 4])]),
        () => zeros([3]).select(0, 9),
        () => zeros([3]).indexSelect(0, tensor([5], { dtype: 'int64' })),
        () => zeros([3, 4]).T.view(12),
        () => F.crossEntropy(zeros([2, 3]), zeros([2])),
        () => F.crossEntropy(zeros([2, 3]), tensor([0, 7], { dtype: 'int64' })),
        () => zeros([2]).add('x'),
        () => zeros([2]).sum(0.5),
        () => zeros([2], { requiresGrad: true }).mul(2).backward(),
        () => ones([1], { requiresGrad: true }).add_(1),
        () => tensor([1], { dtype: 'int64' }).requiresGrad_(),
        () => S.op('aten::no_such_op'),
        () => S.op('aten::add.Tensor', zeros([1])),
        () => { const d = zeros([1]); d.dispose(); d.add(1); },
        () => zeros([2]).to('cuda:0'),
        () => tensor([[1], [2, 3]]),
        () => S.arange(0, 1, 0),
      ];
      let caught = 0;
      for (const f of attempts) {
        try { f(); } catch (e) { if (e instanceof Error) caught++; }
      }
      const check = tensor([1, 2]).add(1).toArray().join(',');
      console.log('caught ' + caught + ' of ' + attempts.length + '; then ' + check);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SELFSUP_INDEX: new URL('../src/index.js', import.meta.url).href },
    });
    assert.equal(r.signal, null, `child was killed by ${r.signal}:\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /caught 19 of 19; then 2,3/);
    assert.doesNotMatch(r.stderr, /terminate called|Aborted/);
  });
});

// Each of these aborts the whole process today (a c10::Error escapes a native function that
// only catches Napi errors), so each runs in its own child process.
describe('errors that must not abort the process', () => {
  // A hang is killed after 30 s (SIGTERM, so the signal checks fail); loading the engine alone can
  // take several seconds on a loaded machine, so a shorter limit fails tests that did not hang.
  function survives(body: string, timeout = 30_000): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
    const script = `
      const S = await import(process.env.SELFSUP_INDEX);
      let message = 'no error';
      try { ${body} } catch (e) { message = (e instanceof Error ? e.constructor.name + ': ' : '') + e.message; }
      console.log('survived: ' + message);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      timeout,
      env: { ...process.env, SELFSUP_INDEX: new URL('../src/index.js', import.meta.url).href },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr: stderr.slice(0, 400) }));
    });
  }

  test('the helper sees a normal error as survived', async () => {
    const r = await survives(`S.zeros([2, 3]).matmul(S.zeros([4, 5]));`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /survived: Error: aten::matmul/);
  });

  test('retainGrad on a tensor that does not require grad', async () => {
    const r = await survives(`S.zeros([2]).retainGrad();`);
    assert.equal(r.signal, null, r.stderr);
    assert.match(r.stdout, /survived: Error: .*retain_grad/);
  });

  test('an invalid device string', async () => {
    const bodies = [`S.zeros([2], { device: 'gpu' });`, `S.zeros([2]).to('cuda:x');`, `S.tensor([1], { device: 'tpu' });`];
    const results = await Promise.all(bodies.map((body) => survives(body)));
    for (const [i, body] of bodies.entries()) {
      const r = results[i]!;
      assert.equal(r.signal, null, `${body}\n${r.stderr}`);
      assert.match(r.stdout, /survived: \w*Error: /, body);
    }
  });

  test('a misspelt dtype passed to to()', async () => {
    const r = await survives(`S.zeros([2]).to('float128');`);
    assert.equal(r.signal, null, r.stderr);
    assert.match(r.stdout, /survived: TypeError: .*float128/);
  });

  test('a Tensor passed where a Generator is expected', async () => {
    const r = await survives(`S.rand([2], { generator: S.zeros([1]) });`);
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.match(r.stdout, /survived: TypeError: .*Generator/);
  });

  test('a Generator still works after being passed around', () => {
    const g = new Generator(1);
    assert.equal(S.rand([3], { generator: g }).numel, 3);
  });
});
