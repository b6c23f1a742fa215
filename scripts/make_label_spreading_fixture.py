#!/usr/bin/python3
"""Writes test/fixtures/label_spreading.json for test/label-spreading.test.ts.

    /usr/bin/python3 scripts/make_label_spreading_fixture.py

Label spreading (Zhou et al. 2004) written again in plain PyTorch with a dense matrix:
a k-NN graph by cosine similarity (no self-loops), weights clamped at 0, made symmetric
as (W + W^T) / 2, S = D^-1/2 W D^-1/2, then F <- alpha S F + (1 - alpha) Y. Inputs are
float32 values stored in their shortest decimal form; the reference runs in float64.
Seeded and single-threaded: reruns are byte-identical.
"""
import json
import os

import numpy as np
import torch

torch.set_num_threads(1)
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'label_spreading.json')
GEN = torch.Generator().manual_seed(2004)


def f32(t):
    return [float(str(np.float32(v))) for v in t.float().flatten().tolist()]


def case(n, d, c, k, alpha, iters):
    x = torch.randn(n, d, generator=GEN).float().double()
    seeds = torch.softmax(torch.randn(n, c, generator=GEN).float().double(), 1).float().double()
    f = x / x.norm(dim=1, keepdim=True)
    sim = f @ f.t()
    sim.fill_diagonal_(-2)
    values, indices = sim.topk(k, dim=1)
    w = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in range(k):
            w[i, indices[i, j]] += max(values[i, j].item(), 0.0)
    w = (w + w.t()) / 2
    dinv = w.sum(1).clamp(min=1e-12).rsqrt()
    s = dinv[:, None] * w * dinv[None, :]
    out = seeds.clone()
    for _ in range(iters):
        out = alpha * (s @ out) + (1 - alpha) * seeds
    return {
        'k': k, 'alpha': alpha, 'iterations': iters,
        'features': {'shape': [n, d], 'data': f32(x)},
        'seeds': {'shape': [n, c], 'data': f32(seeds)},
        'neighbors': indices.tolist(),
        'spread': out.flatten().tolist(),
    }


cases = [case(40, 6, 3, 4, 0.9, 20), case(64, 16, 5, 8, 0.99, 30), case(25, 3, 2, 3, 0.5, 5)]
with open(PATH, 'w') as fh:
    json.dump(cases, fh, separators=(',', ':'))
    fh.write('\n')
print(f'wrote {PATH}')
