#!/usr/bin/python3
"""Writes test/fixtures/ssl_text_losses.json: inputs, losses and logit gradients for the
text pretexts' losses (ELECTRA's replaced-token detection), for test/text-pretexts.test.ts.

A file of its own, so test/fixtures/ssl_losses.json (scripts/make_ssl_loss_fixtures.py)
stays byte for byte as it was. Run with Debian's PyTorch 1.13:

    /usr/bin/python3 scripts/make_text_loss_fixtures.py          # rewrite the fixture
    /usr/bin/python3 scripts/make_text_loss_fixtures.py --check  # exit 1 if it would change

The reference is written from the paper's Eq. 2, a loop over token positions (no call to
binary_cross_entropy_with_logits), in float64 from float32 inputs; seeded, single-threaded.
"""
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'ssl_text_losses.json')
GEN = torch.Generator().manual_seed(20251202)


def enc_input(t):
    return {'shape': list(t.shape), 'data': [float(str(np.float32(v))) for v in t.detach().float().flatten().tolist()]}


def enc_result(t):
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().flatten().tolist()]}


def replaced_token(logits, replaced, real):
    """ELECTRA Eq. 2 with D = sigmoid(logit) the probability of 'replaced': mean over real tokens of
    -[r log D + (1 - r) log(1 - D)]."""
    terms = []
    b, l = logits.shape
    for i in range(b):
        for j in range(l):
            if not real[i, j]:
                continue
            d = torch.sigmoid(logits[i, j])
            terms.append(-torch.log(d) if replaced[i, j] else -torch.log(1 - d))
    return torch.stack(terms).mean()


OUT = {'replacedToken': []}
for b, l, scale in [(3, 7, 1.0), (2, 5, 4.0)]:
    logits = (torch.randn(b, l, generator=GEN, dtype=torch.float64) * scale).float().double().requires_grad_(True)
    replaced = torch.rand(b, l, generator=GEN) < 0.3
    lengths = [l - (i % 3) for i in range(b)]  # some rows padded at the end
    real = torch.tensor([[j < lengths[i] for j in range(l)] for i in range(b)])
    replaced = replaced & real
    loss = replaced_token(logits, replaced, real)
    loss.backward()
    OUT['replacedToken'].append({
        'name': 'B%d_L%d_scale%g' % (b, l, scale), 'logits': enc_input(logits),
        'replaced': [int(v) for v in replaced.flatten().tolist()], 'real': [int(v) for v in real.flatten().tolist()],
        'loss': float(loss), 'grad': enc_result(logits.grad),
    })

text = json.dumps(OUT, indent=1) + '\n'
if '--check' in sys.argv:
    same = os.path.exists(PATH) and open(PATH).read() == text
    print('fixture up to date' if same else 'fixture would change')
    sys.exit(0 if same else 1)
with open(PATH, 'w') as f:
    f.write(text)
print('wrote', PATH)
