#!/usr/bin/python3
"""Checks selfsup's safetensors files against PyTorch, with the format written out by hand
(the `safetensors` package is not needed): struct + json + torch.frombuffer.

  write PATH       write the known tensors (see known_tensors) from PyTorch
  check PATH       assert a selfsup-written file holds the known tensors, laid out like the
                   reference writer; print {name: {dtype, shape, sum}} as JSON
  save-model PATH  save Net's seeded state dict; print Net(model_input()) as JSON
  load-model PATH  load a state dict into Net with load_state_dict(strict=True); print Net(model_input())
"""
import json
import struct
import sys

import torch

DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
          'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
          'U8': torch.uint8, 'BOOL': torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}
# The reference writer orders tensors by this rank, descending, then by name.
RANK = ['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'F64', 'I64']


def reference_order(names_dtypes):
    return sorted(names_dtypes, key=lambda nd: (-RANK.index(nd[1]), nd[0].encode()))


def save(path, tensors, metadata=None):
    order = reference_order([(name, NAMES[t.dtype]) for name, t in tensors.items()])
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, _ in order:
        t = tensors[name].detach().contiguous().reshape(-1)
        blob = bytes(t.view(torch.uint8).numpy()) if t.numel() else b''  # a uint8 view works for bf16 too
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def load(path, strict_layout=False):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop('__metadata__', None)
    body = data[8 + n:]
    if strict_layout:
        assert n % 8 == 0 and data[8:9] == b'{', 'header must start with { and be padded to 8 bytes'
        by_offset = sorted(header, key=lambda k: header[k]['data_offsets'])
        assert by_offset == [k for k, _ in reference_order([(k, v['dtype']) for k, v in header.items()])], by_offset
        end = 0
        for k in by_offset:
            assert header[k]['data_offsets'][0] == end, f'{k}: hole or overlap'
            end = header[k]['data_offsets'][1]
        assert end == len(body), 'bytes after the last tensor'
    tensors = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = DTYPES[info['dtype']]
        chunk = body[begin:end]
        flat = torch.frombuffer(bytearray(chunk), dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info['shape'])
    return tensors, metadata


def values(dtype, n):
    """Element i of each known tensor; test/safetensors.test.ts computes the same."""
    i = range(n)
    if dtype in (torch.float16, torch.bfloat16):
        return [((k * 7) % 23 - 11) * 0.125 for k in i]
    if dtype == torch.float32:
        return [((k * 7) % 23 - 11) * 0.3 for k in i]
    if dtype == torch.float64:
        return [((k * 7) % 23 - 11) * 0.3 + k * 1e-10 for k in i]
    if dtype == torch.int64:
        return [(k - 3) * 2 ** 61 + k for k in i]
    if dtype == torch.int32:
        return [(k - 3) * 700000001 for k in i]
    if dtype == torch.int16:
        return [(k * 9001) % 65536 - 32768 for k in i]
    if dtype == torch.int8:
        return [(k * 37) % 256 - 128 for k in i]
    if dtype == torch.uint8:
        return [(k * 53) % 256 for k in i]
    return [k % 3 == 0 for k in i]


KNOWN = [('f32.matrix', 'F32', [2, 3]), ('f64.vec', 'F64', [5]), ('f16.cube', 'F16', [2, 2, 2]),
         ('bf16.row', 'BF16', [1, 6]), ('i64.vec', 'I64', [6]), ('i32.mat', 'I32', [3, 2]),
         ('i16.vec', 'I16', [4]), ('i8.vec', 'I8', [7]), ('u8.mat', 'U8', [2, 4]), ('bool.vec', 'BOOL', [5]),
         ('scalar.f32', 'F32', []), ('scalar.i64', 'I64', []), ('empty.f32', 'F32', [0, 3]), ('empty.i8', 'I8', [0])]
KNOWN_METADATA = {'framework': 'pt', 'note': 'known tensors'}


def known_tensors():
    out = {}
    for name, dt, shape in KNOWN:
        numel = 1
        for s in shape:
            numel *= s
        out[name] = torch.tensor(values(DTYPES[dt], numel), dtype=DTYPES[dt]).reshape(shape)
    return out


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def model_input():
    return (torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) % 11 - 5) / 4


def run_model(net):
    with torch.no_grad():
        return net.eval()(model_input()).tolist()


def main(mode, path):
    assert sys.byteorder == 'little'
    if mode == 'write':
        save(path, known_tensors(), KNOWN_METADATA)
    elif mode == 'check':
        got, metadata = load(path, strict_layout=True)
        want = known_tensors()
        assert sorted(got) == sorted(want), f'names differ: {sorted(got)}'
        assert metadata == KNOWN_METADATA, metadata
        for name, t in want.items():
            assert got[name].dtype == t.dtype and got[name].shape == t.shape, (name, got[name].dtype, got[name].shape)
            assert torch.equal(got[name], t), (name, got[name], t)
        report = {name: {'dtype': NAMES[t.dtype], 'shape': list(t.shape),
                         'sum': str(t.sum().item()) if t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
                         else t.double().sum().item()} for name, t in got.items()}
        print(json.dumps(report))
    elif mode == 'save-model':
        torch.manual_seed(0)
        net = Net()
        with torch.no_grad():
            net.bn.running_mean.copy_(torch.randn(4) * 0.1)
            net.bn.running_var.copy_(torch.rand(4) + 0.5)
            net.bn.weight.copy_(torch.rand(4) + 0.5)
            net.bn.bias.copy_(torch.randn(4) * 0.1)
            net.bn.num_batches_tracked.fill_(7)
        save(path, net.state_dict())
        print(json.dumps(run_model(net)))
    elif mode == 'load-model':
        net = Net()
        tensors, _ = load(path)
        net.load_state_dict(tensors, strict=True)
        for name, t in net.state_dict().items():  # load_state_dict would silently cast a wrong dtype
            assert tensors[name].dtype == t.dtype and torch.equal(tensors[name], t), name
        print(json.dumps(run_model(net)))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
