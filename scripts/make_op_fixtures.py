#!/usr/bin/python3
"""Writes test/fixtures/ops_*.json: inputs, PyTorch outputs and gradients for the engine tests.

Run with Debian's PyTorch (not the `python3` on PATH):

    /usr/bin/python3 scripts/make_op_fixtures.py          # rewrite the fixtures
    /usr/bin/python3 scripts/make_op_fixtures.py --check  # exit 1 if they would change

Each case says how selfsup is called (`call`: kind `method` on the first argument,
`F` for functional ops, `fn` for top-level functions; `{"$t": i}` stands for input i)
and records what PyTorch computes for the same thing. Gradients are of
sum(output * cot) over the floating outputs, with `cot` stored in the case.
Everything is seeded and printed with fixed precision, so reruns on one machine are
byte-identical; --check allows what another CPU's kernels change (convolutions round
differently with other vector units: up to a few 1e-7), the tolerance the engine tests use.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
GEN = torch.Generator().manual_seed(20240611)

DTYPES = {torch.float32: 'float32', torch.float64: 'float64', torch.int64: 'int64',
          torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'bool'}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def T(i):
    """Placeholder for input i in a selfsup call."""
    return {'$t': i}


class In:
    """One input: short decimal values (exactly what the JS side parses), shape, dtype, grad flag."""

    def __init__(self, values, shape, dtype='float32', grad=None):
        self.values, self.shape, self.dtype = values, list(shape), dtype
        self.grad = (dtype in ('float32', 'float64')) if grad is None else grad

    def nograd(self):
        self.grad = False
        return self

    def tensor(self):
        t = torch.tensor(self.values, dtype=TORCH_DTYPES[self.dtype]).reshape(self.shape)
        return t.requires_grad_(self.grad)


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def rn(*shape, offset=0.005, scale=1.0, dtype='float32'):
    """Normal values on a 0.01 grid shifted by `offset`, so never 0, never tied with another input's grid."""
    x = torch.randn(numel(shape), generator=GEN, dtype=torch.float64) * scale
    return In([round(round(v * 100) / 100 + offset, 4) for v in x.tolist()], shape, dtype)


def pos(*shape, dtype='float32'):
    """Positive values in [0.2, 2.2)."""
    x = torch.rand(numel(shape), generator=GEN, dtype=torch.float64)
    return In([round(0.2 + 2 * v, 3) for v in x.tolist()], shape, dtype)


def away(*shape):
    """Values with |x| >= 0.5 (safe divisors)."""
    x = torch.rand(numel(shape), generator=GEN, dtype=torch.float64)
    s = torch.randint(0, 2, (numel(shape),), generator=GEN).tolist()
    return In([round((0.5 + 1.5 * v) * (1 if si else -1), 3) for v, si in zip(x.tolist(), s)], shape)


def distinct(*shape, step=0.25):
    """All-different values (a shuffled grid), so max/sort/pooling have no ties."""
    n = numel(shape)
    p = torch.randperm(n, generator=GEN).tolist()
    return In([round((v - n / 2) * step + 0.01, 4) for v in p], shape)


def ints(low, high, *shape, dtype='int64'):
    return In(torch.randint(low, high, (numel(shape),), generator=GEN).tolist(), shape, dtype, grad=False)


def bools(*shape):
    return In([bool(v) for v in torch.randint(0, 2, (numel(shape),), generator=GEN).tolist()], shape, 'bool', grad=False)


def probs(*shape):
    x = torch.softmax(torch.randn(shape, generator=GEN, dtype=torch.float64), -1)
    return In([round(v, 4) for v in x.flatten().tolist()], shape, grad=False)


def fmt_values(t):
    flat = t.detach().flatten()
    if t.dtype == torch.bool:
        return [bool(v) for v in flat.tolist()]
    if t.dtype.is_floating_point:
        digits = '%.9g' if t.dtype == torch.float32 else '%.15g'
        return [float(digits % v) for v in flat.tolist()]
    return [int(v) for v in flat.tolist()]


def fmt(t):
    return {'shape': list(t.shape), 'dtype': DTYPES[t.dtype], 'data': fmt_values(t)}


FILES = {}


def case(file, name, kind, fname, args, ref, inputs, fd=True):
    """Records one op: selfsup's call, PyTorch's result and gradients. fd=False skips finite differences."""
    tensors = [i.tensor() for i in inputs]
    out = ref(*tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    entry = {
        'name': name,
        'call': {'kind': kind, 'name': fname, 'args': args},
        'inputs': [{'shape': i.shape, 'dtype': i.dtype, 'data': i.values, 'requiresGrad': i.grad} for i in inputs],
        'outputs': [fmt(o) for o in outs],
    }
    differentiable = [o.requires_grad for o in outs]
    if any(differentiable):
        cots = [rn(*o.shape, offset=0, dtype=DTYPES[o.dtype]).nograd() if d else None for o, d in zip(outs, differentiable)]
        loss = sum((o * c.tensor()).sum() for o, c in zip(outs, cots) if c is not None)
        loss.backward()
        entry['cot'] = [{'shape': c.shape, 'dtype': c.dtype, 'data': c.values} if c else None for c in cots]
        entry['grads'] = [fmt(t.grad) if (i.grad and t.grad is not None) else None for i, t in zip(inputs, tensors)]
        entry['fd'] = fd
    FILES.setdefault(file, [])
    assert name not in [c['name'] for c in FILES[file]], name
    FILES[file].append(entry)


def method(file, name, fname, args, ref, inputs, **kw):
    case(file, name, 'method', fname, args, ref, inputs, **kw)


# ---------------------------------------------------------------- elementwise

E = 'elementwise'
method(E, 'add_broadcast', 'add', [T(0), T(1)], lambda a, b: a + b, [rn(2, 3), rn(3)])
method(E, 'add_alpha', 'add', [T(0), T(1), 0.5], lambda a, b: torch.add(a, b, alpha=0.5), [rn(2, 3), rn(2, 3)])
method(E, 'add_scalar', 'add', [T(0), 1.5], lambda a: a + 1.5, [rn(2, 3)])
method(E, 'sub_broadcast', 'sub', [T(0), T(1)], lambda a, b: a - b, [rn(2, 1, 3), rn(4, 1)])
method(E, 'sub_alpha', 'sub', [T(0), T(1), 2], lambda a, b: torch.sub(a, b, alpha=2), [rn(3), rn(3)])
method(E, 'sub_scalar', 'sub', [T(0), 0.25], lambda a: a - 0.25, [rn(3)])
method(E, 'mul_broadcast', 'mul', [T(0), T(1)], lambda a, b: a * b, [rn(2, 3), rn(2, 1)])
method(E, 'mul_scalar', 'mul', [T(0), -2.5], lambda a: a * -2.5, [rn(2, 3)])
method(E, 'div', 'div', [T(0), T(1)], lambda a, b: a / b, [rn(2, 3), away(2, 3)])
method(E, 'div_scalar', 'div', [T(0), 4], lambda a: a / 4, [rn(2, 3)])
method(E, 'pow_int', 'pow', [T(0), 3], lambda a: a ** 3, [rn(2, 3)])
method(E, 'pow_fraction', 'pow', [T(0), 0.5], lambda a: a ** 0.5, [pos(2, 3)])
method(E, 'pow_tensor', 'pow', [T(0), T(1)], lambda a, b: a ** b, [pos(2, 3), rn(2, 3)])
method(E, 'remainder_scalar', 'remainder', [T(0), 0.7], lambda a: torch.remainder(a, 0.7), [rn(2, 3)])
method(E, 'remainder_tensor', 'remainder', [T(0), T(1)], lambda a, b: torch.remainder(a, b), [rn(2, 3), pos(2, 3)])
method(E, 'maximum', 'maximum', [T(0), T(1)], torch.maximum, [rn(2, 3), rn(2, 3, offset=0.0025)])
method(E, 'minimum', 'minimum', [T(0), T(1)], torch.minimum, [rn(2, 3), rn(3, offset=0.0025)])
for unary, ref, make in [
    ('neg', torch.neg, rn), ('abs', torch.abs, rn), ('exp', torch.exp, rn), ('log', torch.log, pos),
    ('log1p', torch.log1p, pos), ('sqrt', torch.sqrt, pos), ('rsqrt', torch.rsqrt, pos),
    ('reciprocal', torch.reciprocal, away), ('square', torch.square, rn), ('sin', torch.sin, rn),
    ('cos', torch.cos, rn), ('sign', torch.sign, rn), ('floor', torch.floor, rn), ('ceil', torch.ceil, rn),
    ('round', torch.round, rn), ('relu', torch.relu, rn), ('silu', F.silu, rn), ('sigmoid', torch.sigmoid, rn),
    ('tanh', torch.tanh, rn), ('gelu', F.gelu, rn), ('leakyRelu', F.leaky_relu, rn),
]:
    method(E, unary, unary, [T(0)], ref, [make(2, 3)])
method(E, 'clamp', 'clamp', [T(0), -0.5, 0.5], lambda a: torch.clamp(a, -0.5, 0.5), [rn(3, 4)])
method(E, 'clamp_min', 'clamp', [T(0), 0], lambda a: torch.clamp(a, min=0), [rn(3, 4)])
method(E, 'clamp_max', 'clamp', [T(0), None, 0.3], lambda a: torch.clamp(a, max=0.3), [rn(3, 4)])
method(E, 'lerp', 'lerp', [T(0), T(1), 0.3], lambda a, b: torch.lerp(a, b, 0.3), [rn(2, 3), rn(2, 3)])
method(E, 'gelu_tanh', 'gelu', [T(0), 'tanh'], lambda a: F.gelu(a, approximate='tanh'), [rn(2, 3)])
method(E, 'leakyRelu_slope', 'leakyRelu', [T(0), 0.2], lambda a: F.leaky_relu(a, 0.2), [rn(2, 3)])
method(E, 'softmax_dim1', 'softmax', [T(0), 1], lambda a: torch.softmax(a, 1), [rn(2, 4)])
method(E, 'softmax_last', 'softmax', [T(0), -1], lambda a: torch.softmax(a, -1), [rn(2, 2, 3)])
method(E, 'logSoftmax_dim0', 'logSoftmax', [T(0), 0], lambda a: torch.log_softmax(a, 0), [rn(3, 2)])
for fname, ref, extra in [
    ('relu', F.relu, []), ('gelu', F.gelu, []), ('silu', F.silu, []), ('sigmoid', torch.sigmoid, []),
    ('tanh', torch.tanh, []), ('leakyRelu', lambda a: F.leaky_relu(a, 0.1), [0.1]),
    ('softmax', lambda a: F.softmax(a, 1), [1]), ('logSoftmax', lambda a: F.log_softmax(a, 1), [1]),
]:
    case(E, 'F_' + fname, 'F', fname, [T(0)] + extra, ref, [rn(2, 3)])
method(E, 'where', 'where', [T(0), T(1), T(2)], lambda x, c, y: torch.where(c, x, y), [rn(2, 3), bools(2, 3), rn(2, 3)])
method(E, 'where_broadcast', 'where', [T(0), T(1), T(2)], lambda x, c, y: torch.where(c, x, y), [rn(2, 3), bools(2, 1), rn(3)])
method(E, 'where_scalar', 'where', [T(0), T(1), -1], lambda x, c: torch.where(c, x, -1.0), [rn(2, 3), bools(2, 3)])
case(E, 'fn_where', 'fn', 'where', [T(1), T(0), T(2)], lambda x, c, y: torch.where(c, x, y), [rn(4), bools(4), rn(4)])
# Comparisons on small integers stored as floats, so some entries are equal.
for cmp, ref in [('eq', torch.eq), ('ne', torch.ne), ('lt', torch.lt), ('le', torch.le), ('gt', torch.gt), ('ge', torch.ge)]:
    method(E, cmp + '_broadcast', cmp, [T(0), T(1)], ref,
           [In([0.0, 1, 2, 1, 0, 2], [2, 3]), In([1.0, 1, 0], [3])])
    method(E, cmp + '_scalar', cmp, [T(0), 1], lambda a, ref=ref: ref(a, 1), [In([0.0, 1, 2, 1.5], [4])])
method(E, 'logicalAnd', 'logicalAnd', [T(0), T(1)], torch.logical_and, [bools(6), bools(6)])
method(E, 'logicalOr', 'logicalOr', [T(0), T(1)], torch.logical_or, [bools(6), bools(6)])
method(E, 'logicalNot', 'logicalNot', [T(0)], torch.logical_not, [bools(6)])
method(E, 'add_int64', 'add', [T(0), T(1)], lambda a, b: a + b, [ints(-9, 9, 5), ints(-9, 9, 5)])
method(E, 'mul_int32_scalar', 'mul', [T(0), 3], lambda a: a * 3, [ints(-9, 9, 5, dtype='int32')])
method(E, 'mul_int64_fraction', 'mul', [T(0), 2.5], lambda a: a * 2.5, [ints(-9, 9, 5)])
method(E, 'div_int64', 'div', [T(0), T(1)], lambda a, b: a / b, [ints(-9, 9, 5), ints(1, 5, 5)])
method(E, 'add_uint8_scalar', 'add', [T(0), 200], lambda a: a + 200, [ints(0, 100, 5, dtype='uint8')])
method(E, 'to_int64', 'to', [T(0), 'int64'], lambda a: a.to(torch.int64), [rn(6, scale=3).nograd()])
method(E, 'to_float64', 'to', [T(0), 'float64'], lambda a: a.to(torch.float64), [rn(4)])
method(E, 'to_bool', 'to', [T(0), 'bool'], lambda a: a.to(torch.bool), [In([0.0, 1, -2, 0.5], [4], grad=False)])
method(E, 'double', 'double', [T(0)], lambda a: a.double(), [ints(-9, 9, 4)])
method(E, 'float', 'float', [T(0)], lambda a: a.float(), [ints(-9, 9, 4, dtype='int32')])
method(E, 'long', 'long', [T(0)], lambda a: a.long(), [ints(-9, 9, 4, dtype='int32')])
method(E, 'int', 'int', [T(0)], lambda a: a.int(), [rn(4, scale=3).nograd()])

# ---------------------------------------------------------------- reductions

R = 'reduce'
method(R, 'sum_all', 'sum', [T(0)], torch.sum, [rn(2, 3)])
method(R, 'sum_dim', 'sum', [T(0), 1], lambda a: a.sum(1), [rn(2, 3, 2)])
method(R, 'sum_dims_keepdim', 'sum', [T(0), [0, 2], True], lambda a: a.sum([0, 2], keepdim=True), [rn(2, 3, 2)])
method(R, 'sum_negative_dim', 'sum', [T(0), -1], lambda a: a.sum(-1), [rn(2, 3)])
method(R, 'sum_int64', 'sum', [T(0)], torch.sum, [ints(-9, 9, 6)])
method(R, 'mean_all', 'mean', [T(0)], torch.mean, [rn(2, 3)])
method(R, 'mean_dim_keepdim', 'mean', [T(0), 0, True], lambda a: a.mean(0, keepdim=True), [rn(3, 2)])
method(R, 'mean_dims', 'mean', [T(0), [1, 2]], lambda a: a.mean([1, 2]), [rn(2, 2, 3)])
method(R, 'prod_all', 'prod', [T(0)], torch.prod, [pos(5)])
method(R, 'prod_dim', 'prod', [T(0), 1], lambda a: a.prod(1), [pos(2, 3)])
method(R, 'max_all', 'max', [T(0)], torch.max, [distinct(3, 4)])
method(R, 'max_dim', 'max', [T(0), 1], lambda a: torch.max(a, 1), [distinct(3, 4)])
method(R, 'max_dim_keepdim', 'max', [T(0), 0, True], lambda a: torch.max(a, 0, keepdim=True), [distinct(3, 4)])
method(R, 'min_all', 'min', [T(0)], torch.min, [distinct(3, 4)])
method(R, 'min_dim', 'min', [T(0), -1], lambda a: torch.min(a, -1), [distinct(2, 3, 4)])
method(R, 'argmax_all', 'argmax', [T(0)], torch.argmax, [distinct(3, 4)])
method(R, 'argmax_dim_keepdim', 'argmax', [T(0), 1, True], lambda a: a.argmax(1, keepdim=True), [distinct(3, 4)])
method(R, 'argmin_dim', 'argmin', [T(0), 0], lambda a: a.argmin(0), [distinct(3, 4)])
method(R, 'std_all', 'std', [T(0)], torch.std, [rn(2, 4)])
method(R, 'std_dim', 'std', [T(0), 1], lambda a: a.std(1), [rn(2, 4)])
method(R, 'std_biased_keepdim', 'std', [T(0), [0], {'unbiased': False, 'keepdim': True}],
       lambda a: a.std([0], unbiased=False, keepdim=True), [rn(3, 4)])
method(R, 'var_all', 'var', [T(0)], torch.var, [rn(2, 4)])
method(R, 'var_dims', 'var', [T(0), [0, 2]], lambda a: a.var([0, 2]), [rn(2, 3, 2)])
method(R, 'var_biased', 'var', [T(0), 1, {'unbiased': False}], lambda a: a.var(1, unbiased=False), [rn(2, 4)])
method(R, 'norm_all', 'norm', [T(0)], torch.norm, [rn(2, 3)])
method(R, 'norm_p1_dim', 'norm', [T(0), 1, 1], lambda a: a.norm(p=1, dim=1), [rn(2, 3)])
method(R, 'norm_p3_keepdim', 'norm', [T(0), 3, [0], True], lambda a: torch.linalg.vector_norm(a, 3, dim=[0], keepdim=True), [rn(3, 2)])
method(R, 'logsumexp', 'logsumexp', [T(0), 1], lambda a: torch.logsumexp(a, 1), [rn(2, 4)])
method(R, 'logsumexp_keepdim', 'logsumexp', [T(0), [0, 1], True], lambda a: torch.logsumexp(a, [0, 1], keepdim=True), [rn(2, 3)])
method(R, 'cumsum', 'cumsum', [T(0), 1], lambda a: torch.cumsum(a, 1), [rn(2, 4)])
method(R, 'topk', 'topk', [T(0), 2], lambda a: torch.topk(a, 2), [distinct(3, 5)])
method(R, 'topk_smallest_dim0', 'topk', [T(0), 2, 0, False], lambda a: torch.topk(a, 2, 0, largest=False), [distinct(4, 3)])
method(R, 'sort', 'sort', [T(0)], lambda a: torch.sort(a, stable=True), [distinct(2, 5)])
method(R, 'sort_descending_dim0', 'sort', [T(0), 0, True], lambda a: torch.sort(a, dim=0, descending=True, stable=True), [distinct(4, 3)])
method(R, 'argsort', 'argsort', [T(0)], lambda a: torch.argsort(a), [distinct(2, 5)])
method(R, 'argsort_descending', 'argsort', [T(0), 0, True], lambda a: torch.argsort(a, 0, descending=True), [distinct(4, 2)])
method(R, 'any', 'any', [T(0)], torch.any, [bools(5)])
method(R, 'all', 'all', [T(0)], torch.all, [In([True, True, True], [3], 'bool')])

# ---------------------------------------------------------------- shapes and indexing

S = 'shape'
method(S, 'reshape_array', 'reshape', [T(0), [4, -1]], lambda a: a.reshape(4, -1), [rn(2, 3, 2)])
method(S, 'reshape_spread', 'reshape', [T(0), 3, 4], lambda a: a.reshape(3, 4), [rn(2, 6)])
method(S, 'view', 'view', [T(0), 6, 2], lambda a: a.view(6, 2), [rn(3, 4)])
method(S, 'permute', 'permute', [T(0), 2, 0, 1], lambda a: a.permute(2, 0, 1), [rn(2, 3, 4)])
method(S, 'permute_array', 'permute', [T(0), [1, 0]], lambda a: a.permute(1, 0), [rn(2, 3)])
method(S, 'transpose', 'transpose', [T(0), 0, 2], lambda a: a.transpose(0, 2), [rn(2, 3, 2)])
method(S, 'squeeze_all', 'squeeze', [T(0)], torch.squeeze, [rn(1, 3, 1, 2)])
method(S, 'squeeze_dim', 'squeeze', [T(0), 2], lambda a: a.squeeze(2), [rn(1, 3, 1, 2)])
method(S, 'unsqueeze', 'unsqueeze', [T(0), -1], lambda a: a.unsqueeze(-1), [rn(2, 3)])
method(S, 'flatten', 'flatten', [T(0)], torch.flatten, [rn(2, 3, 2)])
method(S, 'flatten_from1', 'flatten', [T(0), 1], lambda a: a.flatten(1), [rn(2, 3, 2)])
method(S, 'expand', 'expand', [T(0), 2, 3, 4], lambda a: a.expand(2, 3, 4), [rn(3, 1)])
method(S, 'expand_keep', 'expand', [T(0), [-1, 4]], lambda a: a.expand(-1, 4), [rn(3, 1)])
method(S, 'repeat', 'repeat', [T(0), 2, 3], lambda a: a.repeat(2, 3), [rn(2, 2)])
method(S, 'slice_step', 'slice', [T(0), 1, 1, None, 2], lambda a: a[:, 1::2], [rn(2, 6)])
method(S, 'slice_negative', 'slice', [T(0), 0, -2], lambda a: a[-2:], [rn(4, 2)])
method(S, 'slice_end', 'slice', [T(0), 1, None, 3], lambda a: a[:, :3], [rn(2, 5)])
method(S, 'narrow', 'narrow', [T(0), 1, 1, 2], lambda a: a.narrow(1, 1, 2), [rn(2, 4)])
method(S, 'select', 'select', [T(0), 1, -1], lambda a: a.select(1, -1), [rn(2, 3, 2)])
method(S, 'indexSelect', 'indexSelect', [T(0), 0, T(1)], lambda a, i: a.index_select(0, i),
       [rn(4, 3), In([3, 0, 3], [3], 'int64')])
method(S, 'index_columns', 'index', [T(0), [None, T(1)]], lambda a, i: a[:, i], [rn(3, 4), In([2, 0], [2], 'int64')])
method(S, 'index_pairs', 'index', [T(0), [T(1), T(2)]], lambda a, i, j: a[i, j],
       [rn(3, 4), In([0, 2, 2], [3], 'int64'), In([1, 3, 0], [3], 'int64')])
method(S, 'index_mask', 'index', [T(0), [T(1)]], lambda a, m: a[m], [rn(4, 2), In([True, False, True, True], [4], 'bool')])
method(S, 'gather', 'gather', [T(0), 1, T(1)], lambda a, i: a.gather(1, i),
       [rn(3, 4), In([0, 3, 1, 1, 2, 2], [3, 2], 'int64')])
method(S, 'scatter_src', 'scatter', [T(0), 1, T(1), T(2)], lambda a, i, s: a.scatter(1, i, s),
       [rn(2, 4), In([3, 0, 1, 2], [2, 2], 'int64'), rn(2, 2)])
method(S, 'scatter_value', 'scatter', [T(0), 0, T(1), 9.5], lambda a, i: a.scatter(0, i, 9.5),
       [rn(3, 2), In([2, 0], [1, 2], 'int64')])
method(S, 'scatterAdd', 'scatterAdd', [T(0), 0, T(1), T(2)], lambda a, i, s: a.scatter_add(0, i, s),
       [rn(3, 2), In([0, 2, 0, 0], [2, 2], 'int64'), rn(2, 2)])
method(S, 'maskedFill', 'maskedFill', [T(0), T(1), -7], lambda a, m: a.masked_fill(m, -7), [rn(2, 3), bools(2, 3)])
method(S, 'maskedFill_broadcast', 'maskedFill', [T(0), T(1), 0.5], lambda a, m: a.masked_fill(m, 0.5), [rn(2, 3), bools(3)])
method(S, 'maskedFill_tensor', 'maskedFill', [T(0), T(1), T(2)], lambda a, m, v: a.masked_fill(m, v),
       [rn(2, 3), bools(2, 3), In([2.5], [], grad=False)])
method(S, 'maskedSelect', 'maskedSelect', [T(0), T(1)], lambda a, m: a.masked_select(m), [rn(2, 3), bools(2, 3)])
method(S, 'split_size', 'split', [T(0), 2], lambda a: a.split(2), [rn(5, 2)])
method(S, 'split_sizes_dim1', 'split', [T(0), [1, 3], 1], lambda a: a.split([1, 3], 1), [rn(2, 4)])
method(S, 'chunk', 'chunk', [T(0), 3, 1], lambda a: a.chunk(3, 1), [rn(2, 7)])
method(S, 'unbind', 'unbind', [T(0), 1], lambda a: a.unbind(1), [rn(2, 3)])
method(S, 'rot90_default', 'rot90', [T(0)], torch.rot90, [rn(2, 3)])
for k in (-1, 1, 2, 3, 5):
    method(S, 'rot90_image_k%d' % k, 'rot90', [T(0), k, [2, 3]], lambda a, k=k: torch.rot90(a, k, [2, 3]), [rn(2, 2, 2, 3)])
method(S, 'rot90_reverse_dims', 'rot90', [T(0), 1, [1, 0]], lambda a: torch.rot90(a, 1, [1, 0]), [rn(2, 3)])
method(S, 'flip', 'flip', [T(0), 0], lambda a: a.flip(0), [rn(3, 2)])
method(S, 'flip_dims', 'flip', [T(0), [1, 2]], lambda a: a.flip([1, 2]), [rn(2, 2, 3)])
method(S, 'roll', 'roll', [T(0), 1, 1], lambda a: a.roll(1, 1), [rn(2, 4)])
method(S, 'roll_dims', 'roll', [T(0), [-1, 2], [0, 1]], lambda a: a.roll([-1, 2], [0, 1]), [rn(3, 4)])
method(S, 'oneHot', 'oneHot', [T(0), 4], lambda a: F.one_hot(a, 4), [In([0, 3, 1], [3], 'int64')])
method(S, 'oneHot_inferred', 'oneHot', [T(0)], F.one_hot, [In([2, 0], [2], 'int64')])
method(S, 'contiguous', 'contiguous', [T(0)], lambda a: a.contiguous(), [rn(2, 3)])
method(S, 'clone', 'clone', [T(0)], lambda a: a.clone(), [rn(2, 3)])
method(S, 'repeatInterleave', 'repeatInterleave', [T(0), 2], lambda a: a.repeat_interleave(2), [rn(2, 2)])
method(S, 'repeatInterleave_dim', 'repeatInterleave', [T(0), 3, 1], lambda a: a.repeat_interleave(3, 1), [rn(2, 2)])
method(S, 'unfold', 'unfold', [T(0), 1, 3, 2], lambda a: a.unfold(1, 3, 2), [rn(2, 7)])
method(S, 'tril', 'tril', [T(0)], torch.tril, [rn(3, 4)])
method(S, 'triu_offset', 'triu', [T(0), 1], lambda a: torch.triu(a, 1), [rn(3, 4)])
method(S, 'tril_negative', 'tril', [T(0), -1], lambda a: torch.tril(a, -1), [rn(2, 3, 3)])
method(S, 'nonzero', 'nonzero', [T(0)], torch.nonzero, [In([0.0, 1.5, 0, -2, 0, 3], [2, 3], grad=False)])
method(S, 'bincount', 'bincount', [T(0)], torch.bincount, [In([1, 3, 1, 0, 3, 3], [6], 'int64')])
method(S, 'bincount_minlength', 'bincount', [T(0), 6], lambda a: torch.bincount(a, minlength=6), [In([2, 0, 2], [3], 'int64')])
case(S, 'pad_constant', 'F', 'pad', [T(0), [1, 2]], lambda x: F.pad(x, [1, 2]), [rn(2, 3)])
case(S, 'pad_constant_value_2d', 'F', 'pad', [T(0), [1, 0, 0, 2], 'constant', -1.5],
     lambda x: F.pad(x, [1, 0, 0, 2], 'constant', -1.5), [rn(1, 2, 3)])
case(S, 'pad_reflect', 'F', 'pad', [T(0), [1, 2, 2, 1], 'reflect'], lambda x: F.pad(x, [1, 2, 2, 1], 'reflect'), [rn(1, 2, 3, 4)])
case(S, 'pad_replicate', 'F', 'pad', [T(0), [2, 1, 0, 1], 'replicate'], lambda x: F.pad(x, [2, 1, 0, 1], 'replicate'), [rn(1, 1, 3, 3)])
case(S, 'cat_dim0', 'fn', 'cat', [[T(0), T(1)]], lambda a, b: torch.cat([a, b]), [rn(2, 3), rn(1, 3)])
case(S, 'cat_dim1_three', 'fn', 'cat', [[T(0), T(1), T(2)], 1], lambda a, b, c: torch.cat([a, b, c], 1),
     [rn(2, 1), rn(2, 3), rn(2, 2)])
case(S, 'stack', 'fn', 'stack', [[T(0), T(1)]], lambda a, b: torch.stack([a, b]), [rn(2, 3), rn(2, 3)])
case(S, 'stack_last', 'fn', 'stack', [[T(0), T(1), T(2)], -1], lambda a, b, c: torch.stack([a, b, c], -1),
     [rn(2, 2), rn(2, 2), rn(2, 2)])

# ---------------------------------------------------------------- linear algebra

L = 'linalg'
method(L, 'matmul_2d', 'matmul', [T(0), T(1)], torch.matmul, [rn(2, 3), rn(3, 4)])
method(L, 'matmul_batched_broadcast', 'matmul', [T(0), T(1)], torch.matmul, [rn(2, 3, 4), rn(4, 2)])
method(L, 'matmul_batch_both', 'matmul', [T(0), T(1)], torch.matmul, [rn(2, 1, 2, 3), rn(3, 3, 2)])
method(L, 'matmul_vec_mat', 'matmul', [T(0), T(1)], torch.matmul, [rn(3), rn(3, 2)])
method(L, 'matmul_mat_vec', 'matmul', [T(0), T(1)], torch.matmul, [rn(2, 3), rn(3)])
method(L, 'matmul_dot', 'matmul', [T(0), T(1)], torch.matmul, [rn(4), rn(4)])
method(L, 'mm', 'mm', [T(0), T(1)], torch.mm, [rn(3, 2), rn(2, 4)])
method(L, 'bmm', 'bmm', [T(0), T(1)], torch.bmm, [rn(2, 2, 3), rn(2, 3, 2)])
method(L, 'outer', 'outer', [T(0), T(1)], torch.outer, [rn(3), rn(2)])
for eq, shapes in [('ij,jk->ik', [(2, 3), (3, 2)]), ('bij,bjk->bik', [(2, 2, 3), (2, 3, 2)]),
                   ('bi,bi->b', [(3, 4), (3, 4)]), ('ii->', [(3, 3)]), ('ij->ji', [(2, 3)]),
                   ('i,j->ij', [(2,), (3,)]), ('bchw,c->bhw', [(1, 2, 2, 2), (2,)])]:
    n = len(shapes)
    case(L, 'einsum_' + eq, 'fn', 'einsum', [eq] + [T(i) for i in range(n)],
         lambda *xs, eq=eq: torch.einsum(eq, *xs), [rn(*s) for s in shapes])
case(L, 'linear', 'F', 'linear', [T(0), T(1), T(2)], F.linear, [rn(3, 4), rn(2, 4), rn(2)])
case(L, 'linear_no_bias', 'F', 'linear', [T(0), T(1)], F.linear, [rn(2, 3, 4), rn(5, 4)])

# ---------------------------------------------------------------- neural-network ops

N = 'nn'
case(N, 'conv1d', 'F', 'conv1d', [T(0), T(1), T(2)], F.conv1d, [rn(2, 3, 7), rn(4, 3, 3), rn(4)])
case(N, 'conv1d_options', 'F', 'conv1d', [T(0), T(1), None, {'stride': 2, 'padding': 1, 'dilation': 2}],
     lambda x, w: F.conv1d(x, w, None, stride=2, padding=1, dilation=2), [rn(1, 2, 9), rn(3, 2, 3)])
case(N, 'conv1d_groups', 'F', 'conv1d', [T(0), T(1), T(2), {'groups': 2}],
     lambda x, w, b: F.conv1d(x, w, b, groups=2), [rn(1, 4, 6), rn(6, 2, 3), rn(6)])
case(N, 'conv2d', 'F', 'conv2d', [T(0), T(1), T(2)], F.conv2d, [rn(2, 3, 5, 5), rn(4, 3, 3, 3), rn(4)])
case(N, 'conv2d_stride_padding', 'F', 'conv2d', [T(0), T(1), T(2), {'stride': 2, 'padding': 1}],
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [rn(1, 2, 5, 5), rn(3, 2, 3, 3), rn(3)])
case(N, 'conv2d_pairs', 'F', 'conv2d', [T(0), T(1), None, {'stride': [1, 2], 'padding': [0, 1]}],
     lambda x, w: F.conv2d(x, w, None, stride=(1, 2), padding=(0, 1)), [rn(1, 2, 4, 5), rn(3, 2, 2, 3)])
case(N, 'conv2d_groups_dilation', 'F', 'conv2d', [T(0), T(1), None, {'groups': 2, 'dilation': 2}],
     lambda x, w: F.conv2d(x, w, None, groups=2, dilation=2), [rn(1, 4, 6, 6), rn(4, 2, 2, 2)])
case(N, 'maxPool2d', 'F', 'maxPool2d', [T(0), 2], lambda x: F.max_pool2d(x, 2), [distinct(1, 2, 4, 4)])
case(N, 'maxPool2d_options', 'F', 'maxPool2d', [T(0), 3, {'stride': 2, 'padding': 1}],
     lambda x: F.max_pool2d(x, 3, 2, 1), [distinct(1, 2, 5, 5)])
case(N, 'maxPool2d_ceil', 'F', 'maxPool2d', [T(0), 2, {'ceilMode': True}],
     lambda x: F.max_pool2d(x, 2, ceil_mode=True), [distinct(1, 1, 5, 5)])
case(N, 'avgPool2d', 'F', 'avgPool2d', [T(0), 2], lambda x: F.avg_pool2d(x, 2), [rn(1, 2, 4, 4)])
case(N, 'avgPool2d_include_pad', 'F', 'avgPool2d', [T(0), 3, {'stride': 2, 'padding': 1}],
     lambda x: F.avg_pool2d(x, 3, 2, 1), [rn(1, 1, 5, 5)])
case(N, 'avgPool2d_exclude_pad', 'F', 'avgPool2d', [T(0), 3, {'stride': 2, 'padding': 1, 'countIncludePad': False}],
     lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [rn(1, 1, 5, 5)])
case(N, 'maxPool1d', 'F', 'maxPool1d', [T(0), 2], lambda x: F.max_pool1d(x, 2), [distinct(2, 2, 6)])
case(N, 'maxPool1d_options', 'F', 'maxPool1d', [T(0), 3, 2, 1], lambda x: F.max_pool1d(x, 3, 2, 1), [distinct(1, 2, 7)])
case(N, 'avgPool1d', 'F', 'avgPool1d', [T(0), 3, 2], lambda x: F.avg_pool1d(x, 3, 2), [rn(1, 2, 7)])
case(N, 'adaptiveAvgPool2d_1', 'F', 'adaptiveAvgPool2d', [T(0), 1], lambda x: F.adaptive_avg_pool2d(x, 1), [rn(2, 3, 3, 3)])
case(N, 'adaptiveAvgPool2d_2x3', 'F', 'adaptiveAvgPool2d', [T(0), [2, 3]],
     lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [rn(1, 2, 5, 7)])
case(N, 'adaptiveMaxPool2d', 'F', 'adaptiveMaxPool2d', [T(0), [2, 2]],
     lambda x: F.adaptive_max_pool2d(x, (2, 2)), [distinct(1, 2, 5, 5)])
case(N, 'batchNorm_train', 'F', 'batchNorm', [T(0), {'weight': T(1), 'bias': T(2), 'training': True}],
     lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [rn(4, 3, 2, 2), rn(3), rn(3)])
case(N, 'batchNorm_train_plain', 'F', 'batchNorm', [T(0), {'training': True, 'eps': 1e-3}],
     lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3), [rn(6, 3)])
case(N, 'batchNorm_eval', 'F', 'batchNorm',
     [T(0), {'weight': T(1), 'bias': T(2), 'runningMean': T(3), 'runningVar': T(4), 'training': False}],
     lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False),
     [rn(2, 3, 2, 2), rn(3), rn(3), rn(3).nograd(), pos(3).nograd()])
case(N, 'layerNorm', 'F', 'layerNorm', [T(0), [4], T(1), T(2)], lambda x, w, b: F.layer_norm(x, [4], w, b),
     [rn(2, 3, 4), rn(4), rn(4)])
case(N, 'layerNorm_2d_plain', 'F', 'layerNorm', [T(0), [3, 4]], lambda x: F.layer_norm(x, [3, 4]), [rn(2, 3, 4)])
case(N, 'layerNorm_eps', 'F', 'layerNorm', [T(0), [3], None, None, 0.1], lambda x: F.layer_norm(x, [3], eps=0.1), [rn(2, 3)])
case(N, 'embedding', 'F', 'embedding', [T(0), T(1)], F.embedding, [In([1, 4, 1, 0, 2, 3], [2, 3], 'int64'), rn(5, 3)])
case(N, 'embedding_padding', 'F', 'embedding', [T(0), T(1), 0], lambda i, w: F.embedding(i, w, padding_idx=0),
     [In([0, 2, 0, 1], [4], 'int64'), rn(3, 2)],
     fd=False)  # padding_idx zeroes that row's gradient on purpose, so it differs from finite differences
case(N, 'normalize', 'F', 'normalize', [T(0)], F.normalize, [rn(3, 4)])
case(N, 'normalize_p1_dim0', 'F', 'normalize', [T(0), 0, 1], lambda x: F.normalize(x, p=1, dim=0), [rn(3, 4)])
case(N, 'cosineSimilarity', 'F', 'cosineSimilarity', [T(0), T(1)], F.cosine_similarity, [rn(3, 4), rn(3, 4)])
case(N, 'cosineSimilarity_dim0_broadcast', 'F', 'cosineSimilarity', [T(0), T(1), 0],
     lambda a, b: F.cosine_similarity(a, b, 0), [rn(4, 3), rn(4, 1)])
case(N, 'dropout_eval', 'F', 'dropout', [T(0), 0.5, False], lambda x: F.dropout(x, 0.5, False), [rn(2, 3)])
case(N, 'dropout_p0_train', 'F', 'dropout', [T(0), 0, True], lambda x: F.dropout(x, 0.0, True), [rn(2, 3)])

# ---------------------------------------------------------------- losses

X = 'loss'
logits, target = rn(4, 5), In([1, 0, 4, 2], [4], 'int64')
class_weight = pos(5).nograd()
case(X, 'crossEntropy', 'F', 'crossEntropy', [T(0), T(1)], F.cross_entropy, [logits, target])
for red in ('sum', 'none'):
    case(X, 'crossEntropy_' + red, 'F', 'crossEntropy', [T(0), T(1), {'reduction': red}],
         lambda x, t, red=red: F.cross_entropy(x, t, reduction=red), [logits, target])
case(X, 'crossEntropy_labelSmoothing', 'F', 'crossEntropy', [T(0), T(1), {'labelSmoothing': 0.1}],
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), [logits, target])
case(X, 'crossEntropy_labelSmoothing_none', 'F', 'crossEntropy', [T(0), T(1), {'labelSmoothing': 0.25, 'reduction': 'none'}],
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.25, reduction='none'), [logits, target])
case(X, 'crossEntropy_weight', 'F', 'crossEntropy', [T(0), T(1), {'weight': T(2)}],
     lambda x, t, w: F.cross_entropy(x, t, weight=w), [logits, target, class_weight])
case(X, 'crossEntropy_weight_labelSmoothing', 'F', 'crossEntropy', [T(0), T(1), {'weight': T(2), 'labelSmoothing': 0.1}],
     lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1), [logits, target, class_weight])
case(X, 'crossEntropy_ignoreIndex', 'F', 'crossEntropy', [T(0), T(1), {'ignoreIndex': 2}],
     lambda x, t: F.cross_entropy(x, t, ignore_index=2), [rn(4, 3), In([2, 0, 2, 1], [4], 'int64')])
case(X, 'crossEntropy_spatial', 'F', 'crossEntropy', [T(0), T(1)], F.cross_entropy,
     [rn(2, 3, 4), In([0, 2, 1, 1, 2, 0, 0, 1], [2, 4], 'int64')])
case(X, 'crossEntropy_probabilities', 'F', 'crossEntropy', [T(0), T(1)], F.cross_entropy, [rn(3, 4), probs(3, 4)])
case(X, 'nllLoss', 'F', 'nllLoss', [T(0), T(1)], F.nll_loss, [rn(4, 5), In([3, 0, 4, 4], [4], 'int64')])
case(X, 'nllLoss_weight_sum', 'F', 'nllLoss', [T(0), T(1), {'weight': T(2), 'reduction': 'sum'}],
     lambda x, t, w: F.nll_loss(x, t, weight=w, reduction='sum'), [rn(4, 5), In([3, 0, 4, 4], [4], 'int64'), pos(5).nograd()])
case(X, 'nllLoss_none', 'F', 'nllLoss', [T(0), T(1), {'reduction': 'none'}],
     lambda x, t: F.nll_loss(x, t, reduction='none'), [rn(3, 2), In([1, 0, 1], [3], 'int64')])
for red in ('mean', 'sum', 'none'):
    case(X, 'mseLoss_' + red, 'F', 'mseLoss', [T(0), T(1), {'reduction': red}],
         lambda a, b, red=red: F.mse_loss(a, b, reduction=red), [rn(2, 3), rn(2, 3, offset=0.0025)])
case(X, 'mseLoss_default', 'F', 'mseLoss', [T(0), T(1)], F.mse_loss, [rn(4), rn(4, offset=0.0025)])
bce_target = probs(2, 3)
case(X, 'bceWithLogits', 'F', 'binaryCrossEntropyWithLogits', [T(0), T(1)],
     F.binary_cross_entropy_with_logits, [rn(2, 3), bce_target])
case(X, 'bceWithLogits_none', 'F', 'binaryCrossEntropyWithLogits', [T(0), T(1), {'reduction': 'none'}],
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction='none'), [rn(2, 3), bce_target])
case(X, 'bceWithLogits_posWeight', 'F', 'binaryCrossEntropyWithLogits', [T(0), T(1), {'posWeight': T(2)}],
     lambda x, t, p: F.binary_cross_entropy_with_logits(x, t, pos_weight=p), [rn(2, 3), bce_target, pos(3).nograd()])
case(X, 'bceWithLogits_weight_sum', 'F', 'binaryCrossEntropyWithLogits', [T(0), T(1), {'weight': T(2), 'reduction': 'sum'}],
     lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w, reduction='sum'), [rn(2, 3), bce_target, pos(2, 1).nograd()])


def render(cases):
    # One case per line: small diffs when a case changes.
    return '[\n' + ',\n'.join(json.dumps(c, separators=(',', ':'), allow_nan=False) for c in cases) + '\n]\n'


def same(old, new, rtol=1e-5, atol=1e-6):
    # Structure, strings and integers exactly; floats within the engine tests' tolerance.
    if isinstance(old, float) or isinstance(new, float):
        return isinstance(old, (int, float)) and isinstance(new, (int, float)) and abs(old - new) <= atol + rtol * abs(new)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b, rtol, atol) for a, b in zip(old, new))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(same(old[k], new[k], rtol, atol) for k in old)
    return old == new


def main():
    check = '--check' in sys.argv[1:]
    stale = []
    for name, cases in FILES.items():
        path = os.path.join(ROOT, 'ops_%s.json' % name)
        text = render(cases)
        if check:
            old = open(path).read() if os.path.exists(path) else None
            if old is None or (old != text and not same(json.loads(old), json.loads(text))):
                stale.append(path)
        else:
            with open(path, 'w') as f:
                f.write(text)
            print('%s: %d cases, %d bytes' % (os.path.relpath(path), len(cases), len(text)))
    if stale:
        print('fixtures differ from what the script generates: ' + ', '.join(stale))
        sys.exit(1)


if __name__ == '__main__':
    main()
