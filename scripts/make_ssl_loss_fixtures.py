#!/usr/bin/python3
"""Writes test/fixtures/ssl_losses.json: inputs, losses and input gradients for test/ssl-losses.test.ts.

Run with Debian's PyTorch 1.13 (not the `python3` on PATH):

    /usr/bin/python3 scripts/make_ssl_loss_fixtures.py          # rewrite the fixture
    /usr/bin/python3 scripts/make_ssl_loss_fixtures.py --check  # exit 1 if it would change

Each loss is written here again from its paper, in plain PyTorch, with loops over
anchors, pairs or matrix entries where the paper's formula has a sum, so that it shares
no code path with selfsup's vectorised version. Inputs are random float32 values (stored
exactly, in their shortest float32 form); the references compute in float64 from those
values and store the loss and d loss / d input as float64, so the test can compare
selfsup in float64 (formula check) and in float32 (precision check) against the same
numbers. Seeded and single-threaded: reruns are byte-identical.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'ssl_losses.json')
GEN = torch.Generator().manual_seed(20250301)


# ----------------------------------------------------------------------------- inputs and encoding

def randn(*shape, scale=1.0):
    """Normal float32 values (times `scale`, a number or a per-dim row), as a float64 leaf."""
    x = (torch.randn(*shape, generator=GEN, dtype=torch.float64) * scale).float()
    return x.double().requires_grad_(True)


def enc_input(t):
    """float32 values in their shortest decimal form: JS reads them back exactly with Float32Array."""
    return {'shape': list(t.shape), 'data': [float(str(np.float32(v))) for v in t.detach().float().flatten().tolist()]}


def enc_result(t):
    """float64 values (json writes the shortest repr that reads back to the same double)."""
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().flatten().tolist()]}


def grad_of(t):
    return None if t.grad is None else enc_result(t.grad)


def l2_normalise(z):
    return z / z.norm(dim=1, keepdim=True)


# ----------------------------------------------------------------------------- references, from the papers

def nt_xent(z0, z1, temperature):
    """SimCLR: l(i, j) = -log(exp(s_ij / T) / sum_{k != i} exp(s_ik / T)), mean over the 2N anchors."""
    z = l2_normalise(torch.cat([z0, z1]))
    two_n = z.shape[0]
    n = two_n // 2
    losses = []
    for i in range(two_n):
        positive = (i + n) % two_n  # the other view of the same image
        others = [k for k in range(two_n) if k != i]
        similarities = torch.stack([z[i] @ z[k] for k in others]) / temperature
        losses.append(torch.logsumexp(similarities, 0) - (z[i] @ z[positive]) / temperature)
    return torch.stack(losses).mean()


def info_nce(query, key, negatives, temperature):
    """MoCo Eq. 1: -log(exp(q.k+ / T) / (exp(q.k+ / T) + sum_neg exp(q.k- / T))), mean over queries.
    Without a queue, the other keys of the batch are the negatives."""
    q, k = l2_normalise(query), l2_normalise(key)
    losses = []
    for i in range(q.shape[0]):
        positive = q[i] @ k[i] / temperature
        if negatives is None:
            negative_keys = [k[j] for j in range(k.shape[0]) if j != i]
        else:
            negative_keys = list(l2_normalise(negatives))
        all_logits = torch.stack([positive] + [q[i] @ kn / temperature for kn in negative_keys])
        losses.append(torch.logsumexp(all_logits, 0) - positive)
    return torch.stack(losses).mean()


def negative_cosine(p, z):
    """SimSiam's D(p, z) = -mean_i p_i.z_i / (|p_i| |z_i|)."""
    cosines = [(p[i] @ z[i]) / (p[i].norm() * z[i].norm()) for i in range(p.shape[0])]
    return -torch.stack(cosines).mean()


def barlow_twins(z0, z1, lam, eps):
    """Barlow Twins Eq. 1 with the authors' BatchNorm1d(affine=False) standardisation."""
    n, d = z0.shape

    def standardise(z):
        centred = z - z.mean(0)
        biased_var = (centred ** 2).mean(0)
        return centred / torch.sqrt(biased_var + eps)

    a, b = standardise(z0), standardise(z1)
    # Sanity check of the standardisation against what the authors' code calls.
    assert torch.allclose(a, F.batch_norm(z0, None, None, training=True, eps=eps), atol=1e-12)
    c = a.T @ b / n
    loss = 0
    for i in range(d):
        for j in range(d):
            loss = loss + ((1 - c[i, i]) ** 2 if i == j else lam * c[i, j] ** 2)
    return loss


def vicreg(z0, z1, inv_w, var_w, cov_w, eps):
    """VICReg, Algorithm 1 of the paper, line by line; returns (loss, invariance, variance, covariance)."""
    n, d = z0.shape
    invariance = ((z0 - z1) ** 2).mean()

    def std_hinge(z):
        unbiased_var = ((z - z.mean(0)) ** 2).sum(0) / (n - 1)
        return torch.relu(1 - torch.sqrt(unbiased_var + eps)).mean()

    def covariance_penalty(z):
        centred = z - z.mean(0)
        cov = centred.T @ centred / (n - 1)
        off_diagonal = [cov[i, j] for i in range(d) for j in range(d) if i != j]
        return (torch.stack(off_diagonal) ** 2).sum() / d

    variance = std_hinge(z0) + std_hinge(z1)
    covariance = covariance_penalty(z0) + covariance_penalty(z1)
    loss = inv_w * invariance + var_w * variance + cov_w * covariance
    return loss, invariance, variance, covariance


def dino(student, teacher, center, student_temperature, teacher_temperature):
    """DINO Algorithm 1: H(P_t(i), P_s(j)) over teacher views i and student views j != i, mean over pairs."""
    total, pairs = 0, 0
    for i, t in enumerate(teacher):
        p_teacher = torch.softmax((t.detach() - center) / teacher_temperature, 1)  # stop-gradient on the teacher
        for j, s in enumerate(student):
            if i == j:
                continue
            log_p_student = torch.log_softmax(s / student_temperature, 1)
            total = total + (-(p_teacher * log_p_student).sum(1)).mean()
            pairs += 1
    return total / pairs


def dino_center_update(teacher, center, momentum):
    return momentum * center + (1 - momentum) * torch.cat([t.detach() for t in teacher]).mean(0, keepdim=True)


def distillation(student, teacher, temperature):
    """Hinton et al.: T^2 * cross-entropy of softmax(teacher / T) (no gradient) and softmax(student / T)."""
    targets = torch.softmax(teacher.detach() / temperature, 1)
    return temperature ** 2 * soft_target_cross_entropy(student / temperature, targets)


def soft_target_cross_entropy(logits, probs):
    return (-(probs * torch.log_softmax(logits, 1)).sum(1)).mean()


def mae(pred, target, mask, norm_pix, eps):
    """MAE (He et al. 2021), Sec. 3: MSE between predicted and target pixels, per patch averaged over
    its values, averaged over the masked patches only; with norm_pix each target patch is normalised
    by its mean and (unbiased, as the authors' code) variance."""
    n, l, d = pred.shape
    total, count = 0, 0
    for i in range(n):
        for j in range(l):
            if mask[i, j] == 0:
                continue
            t = target[i, j]
            if norm_pix:
                mu = t.sum() / d
                var = ((t - mu) ** 2).sum() / (d - 1)
                t = (t - mu) / torch.sqrt(var + eps)
            total = total + ((pred[i, j] - t) ** 2).sum() / d
            count += 1
    loss = total / count
    # Sanity check against the authors' vectorised forward_loss.
    tgt = target
    if norm_pix:
        tgt = (target - target.mean(dim=-1, keepdim=True)) / (target.var(dim=-1, keepdim=True) + eps) ** .5
    authors = (((pred - tgt) ** 2).mean(dim=-1) * mask).sum() / mask.sum()
    assert torch.allclose(loss, authors, rtol=1e-12, atol=0)
    return loss


# ----------------------------------------------------------------------------- cases

OUT = {}


def record(loss_name, case_name, options, args, compute, extra=None):
    """args: tensors, lists of tensors or None, in selfsup's argument order."""
    result = compute()
    loss = result[0] if isinstance(result, tuple) else result
    loss.backward()
    flat = lambda a: None if a is None else ([enc_input(t) for t in a] if isinstance(a, list) else enc_input(a))
    grads = lambda a: None if a is None else ([grad_of(t) for t in a] if isinstance(a, list) else grad_of(a))
    entry = {'name': case_name, 'options': options, 'args': [flat(a) for a in args],
             'loss': float(loss), 'grads': [grads(a) for a in args]}
    if isinstance(result, tuple):
        entry['parts'] = [float(p) for p in result[1:]]
    if extra:
        entry.update(extra)
    OUT.setdefault(loss_name, []).append(entry)


for n, d, options in [(8, 16, {}), (5, 3, {'temperature': 0.1})]:
    z0, z1 = randn(n, d), randn(n, d)
    record('ntXent', 'N%d_D%d' % (n, d), options, [z0, z1], lambda: nt_xent(z0, z1, options.get('temperature', 0.5)))

for n, d, k, options in [(8, 16, 12, {}), (5, 3, 7, {'temperature': 0.07}), (8, 16, None, {}), (5, 3, None, {'temperature': 0.5})]:
    q, key = randn(n, d), randn(n, d)
    negatives = randn(k, d) if k else None
    name = 'N%d_D%d_%s' % (n, d, 'K%d' % k if k else 'batchNegatives')
    record('infoNce', name, options, [q, key, negatives], lambda: info_nce(q, key, negatives, options.get('temperature', 0.2)))

for n, d in [(8, 16), (5, 3)]:
    p, z = randn(n, d), randn(n, d)
    record('negativeCosine', 'N%d_D%d' % (n, d), {}, [p, z], lambda: negative_cosine(p, z))

for n, d, options in [(8, 16, {}), (5, 3, {'lambda': 0.1, 'eps': 1e-3})]:
    z0 = randn(n, d)
    z1 = (z0.detach() + 0.5 * randn(n, d).detach()).float().double().requires_grad_(True)  # correlated, like two views
    record('barlowTwins', 'N%d_D%d' % (n, d), options, [z0, z1],
           lambda: barlow_twins(z0, z1, options.get('lambda', 5e-3), options.get('eps', 1e-5)))

VICREG_DEFAULTS = {'invarianceWeight': 25, 'varianceWeight': 25, 'covarianceWeight': 1, 'eps': 1e-4}
# Per-dim scales on both sides of 1 so the std hinge is active for some dims only.
for n, d, scale, options in [(8, 16, torch.linspace(0.3, 1.7, 16, dtype=torch.float64), {}),
                             (5, 3, 0.5, {'invarianceWeight': 10, 'varianceWeight': 5, 'covarianceWeight': 2, 'eps': 1e-3}),
                             (16, 4, 2.0, {})]:
    z0, z1 = randn(n, d, scale=scale), randn(n, d, scale=scale)
    o = {**VICREG_DEFAULTS, **options}
    record('vicreg', 'N%d_D%d' % (n, d), options, [z0, z1],
           lambda: vicreg(z0, z1, o['invarianceWeight'], o['varianceWeight'], o['covarianceWeight'], o['eps']))

for b, out_dim, n_teacher, n_student, options in [
        (8, 16, 2, 4, {'outDim': 16}),
        (5, 3, 1, 3, {'outDim': 3, 'studentTemperature': 0.2, 'teacherTemperature': 0.07, 'centerMomentum': 0.8})]:
    center = randn(1, out_dim, scale=0.2).detach()
    teacher = [randn(b, out_dim, scale=0.2) for _ in range(n_teacher)]
    student = [randn(b, out_dim) for _ in range(n_student)]
    st, tt, m = options.get('studentTemperature', 0.1), options.get('teacherTemperature', 0.04), options.get('centerMomentum', 0.9)
    record('dino', 'B%d_K%d_%dteacher_%dstudent' % (b, out_dim, n_teacher, n_student), options, [student, teacher],
           lambda: dino(student, teacher, center, st, tt),
           {'center': enc_input(center), 'centerAfterUpdate': enc_result(dino_center_update(teacher, center, m))})

for n, c, options in [(8, 16, {}), (5, 3, {'temperature': 4.0})]:
    student, teacher = randn(n, c), randn(n, c, scale=2.0)
    record('distillation', 'N%d_C%d' % (n, c), options, [student, teacher],
           lambda: distillation(student, teacher, options.get('temperature', 1.0)))

for n, c in [(8, 16), (5, 3)]:
    logits = randn(n, c)
    probs = torch.softmax(randn(n, c, scale=2.0).detach(), 1).float().double().requires_grad_(True)
    record('softTargetCrossEntropy', 'N%d_C%d' % (n, c), {}, [logits, probs], lambda: soft_target_cross_entropy(logits, probs))

# MAE: appended last, so the random draws of the cases above stay as they were. The mask is a
# constant (no gradient); at least one patch of every image is masked, as in MAE.
for n, l, d, masked, options in [(2, 6, 12, [[1, 0, 1, 1, 0, 1], [0, 1, 1, 1, 1, 0]], {}),
                                 (3, 4, 5, [[1, 1, 1, 0], [0, 0, 1, 0], [1, 0, 0, 1]], {'normPixLoss': False}),
                                 (2, 5, 8, [[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]], {'eps': 1e-3})]:
    pred, target = randn(n, l, d), randn(n, l, d, scale=2.0)
    mask = torch.tensor(masked, dtype=torch.float64)
    record('mae', 'N%d_L%d_D%d' % (n, l, d), options, [pred, target, mask],
           lambda: mae(pred, target, mask, options.get('normPixLoss', True), options.get('eps', 1e-6)))


def render():
    lines = ['{']
    items = list(OUT.items())
    for i, (loss_name, cases) in enumerate(items):
        lines.append('%s: [' % json.dumps(loss_name))
        lines.append(',\n'.join(json.dumps(c, separators=(',', ':'), allow_nan=False) for c in cases))
        lines.append(']' + (',' if i < len(items) - 1 else ''))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def main():
    text = render()
    if '--check' in sys.argv[1:]:
        old = open(PATH).read() if os.path.exists(PATH) else None
        if old != text:
            print('%s differs from what the script generates' % os.path.relpath(PATH))
            sys.exit(1)
        print('%s is up to date' % os.path.relpath(PATH))
        return
    with open(PATH, 'w') as f:
        f.write(text)
    print('%s: %s, %d bytes' % (os.path.relpath(PATH), ', '.join('%s %d' % (k, len(v)) for k, v in OUT.items()), len(text)))


if __name__ == '__main__':
    main()
