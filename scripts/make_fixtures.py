#!/usr/bin/python3
"""Writes the PyTorch reference fixtures used by test/nn.test.ts and test/optim.test.ts.

Run with Debian's PyTorch 1.13 (not the pyenv python3 on PATH):

    /usr/bin/python3 scripts/make_fixtures.py           # (re)writes test/fixtures/nn_*.json, optim_*.json
    /usr/bin/python3 scripts/make_fixtures.py --check   # fails if the files differ from what it would write

Everything is seeded and single-threaded, so the output is the same on every run.
Tensors are stored as {"shape": [...], "data": [...]} (float32 unless "dtype" says otherwise),
floats in their shortest float32 form to keep the files small.
"""
import json
import math
import os
import sys
import warnings
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
warnings.filterwarnings('ignore')  # scheduler-before-optimizer and similar notices

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


# ----------------------------------------------------------------------------- encoding

def enc(t):
    t = t.detach().cpu().contiguous()
    shape = list(t.shape)
    if t.dtype == torch.bool:
        return {'shape': shape, 'dtype': 'bool', 'data': [int(v) for v in t.view(-1).tolist()]}
    if t.dtype == torch.int64:
        return {'shape': shape, 'dtype': 'int64', 'data': t.view(-1).tolist()}
    flat = t.float().view(-1).numpy()
    return {'shape': shape, 'data': [float(str(np.float32(v))) for v in flat]}


def enc_state(module):
    return OrderedDict((k, enc(v)) for k, v in module.state_dict().items())


def enc_grads(named):
    return OrderedDict((name, enc(p.grad)) for name, p in named if p.grad is not None)


def randn(*shape):
    return torch.randn(*shape)


def randomize(module):
    """Replaces every floating parameter and buffer with random values (so defaults like
    ones/zeros do not hide mistakes); running variances stay positive."""
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith('running_var'):
                t.copy_(torch.rand_like(t) + 0.5)
            else:
                t.copy_(torch.randn_like(t) * 0.5)


def forward_backward(module, inputs, call):
    """Runs `call(module, *inputs)`, backpropagates sum(out * R) with a random R and
    returns the fixture entries: output, R and the grads of inputs and parameters."""
    for x in inputs:
        if x.is_floating_point():
            x.requires_grad_(True)
    out = call(module, *inputs)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    return {
        'out': enc(out),
        'R': enc(r),
        'inputGrads': [enc(x.grad) if x.grad is not None else None for x in inputs],
        'paramGrads': enc_grads(module.named_parameters()),
    }


# ----------------------------------------------------------------------------- nn fixtures

def nn_linear():
    torch.manual_seed(100)
    m = nn.Linear(5, 4)
    randomize(m)
    x = randn(2, 3, 5)
    case = {'state': enc_state(m), 'x': enc(x)}
    case.update(forward_backward(m, [x], lambda m, x: m(x)))
    return {'linear': case}


def nn_conv2d():
    torch.manual_seed(101)
    configs = [
        ('strided', dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1)),
        ('dilatedGrouped', dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(1, 2), padding=(2, 1),
                                dilation=2, groups=2, bias=False)),
    ]
    out = {}
    for name, cfg in configs:
        m = nn.Conv2d(**cfg)
        randomize(m)
        x = randn(2, 4, 7, 7)
        case = {'config': {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
                'state': enc_state(m), 'x': enc(x)}
        case.update(forward_backward(m, [x], lambda m, x: m(x)))
        out[name] = case
    return out


def nn_batchnorm():
    torch.manual_seed(102)
    out = {}

    # BatchNorm2d: two training steps, then eval.
    m = nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
    randomize(m)
    m.num_batches_tracked.zero_()
    state0 = enc_state(m)
    x1, x2, x3 = randn(4, 3, 5, 5) * 2 + 1, randn(4, 3, 5, 5), randn(2, 3, 5, 5)
    m.train()
    step1 = forward_backward(m, [x1], lambda m, x: m(x))
    after1 = enc_state(m)
    with torch.no_grad():
        m(x2)
    after2 = enc_state(m)
    m.eval()
    x3.requires_grad_(True)
    eval_out = m(x3)
    r = torch.randn_like(eval_out)
    (eval_out * r).sum().backward()
    out['bn2d'] = {
        'options': {'eps': 1e-3, 'momentum': 0.2}, 'state': state0, 'x1': enc(x1), 'x2': enc(x2), 'x3': enc(x3),
        'train1': step1, 'stateAfter1': after1, 'stateAfter2': after2,
        'evalOut': enc(eval_out), 'evalR': enc(r), 'evalInputGrad': enc(x3.grad),
    }

    # momentum=None: cumulative average of the batch statistics.
    m = nn.BatchNorm2d(3, momentum=None)
    xs = [randn(3, 3, 4, 4) + i for i in range(3)]
    with torch.no_grad():
        for x in xs:
            m(x)
    out['bn2dCumulative'] = {'xs': [enc(x) for x in xs], 'stateAfter': enc_state(m)}

    # No running statistics: eval mode normalises with the batch's own statistics.
    m = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    x = randn(2, 3, 4, 4)
    m.eval()
    out['bn2dNoStats'] = {'x': enc(x), 'evalOut': enc(m(x)), 'keys': list(m.state_dict().keys())}

    # BatchNorm1d on [N, C] and [N, C, L].
    for name, shape in [('bn1d2d', (6, 3)), ('bn1d3d', (4, 3, 5))]:
        m = nn.BatchNorm1d(3)
        randomize(m)
        m.num_batches_tracked.zero_()
        state0 = enc_state(m)
        x = randn(*shape)
        case = {'state': state0, 'x': enc(x)}
        case.update(forward_backward(m, [x], lambda m, x: m(x)))
        case['stateAfter'] = enc_state(m)
        out[name] = case
    return out


def nn_layernorm():
    torch.manual_seed(103)
    m = nn.LayerNorm([4, 5], eps=1e-4)
    randomize(m)
    x = randn(2, 3, 4, 5) * 3 + 2
    case = {'state': enc_state(m), 'x': enc(x)}
    case.update(forward_backward(m, [x], lambda m, x: m(x)))
    return {'layernorm': case}


def nn_embedding():
    torch.manual_seed(104)
    m = nn.Embedding(10, 4, padding_idx=2)
    randomize(m)
    idx = torch.tensor([[1, 2, 3], [2, 9, 1]])
    case = {'state': enc_state(m), 'indices': enc(idx)}
    case.update(forward_backward(m, [idx], lambda m, i: m(i)))
    return {'embedding': case}


def nn_attention():
    torch.manual_seed(105)
    out = {}
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    randomize(m)
    state = enc_state(m)

    # Self-attention with padded keys; weights averaged over heads.
    x = randn(2, 5, 8)
    kpm = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
    m.zero_grad()
    case = {'x': enc(x), 'keyPaddingMask': enc(kpm)}
    case.update(forward_backward(m, [x], lambda m, x: m(x, x, x, key_padding_mask=kpm)[0]))
    with torch.no_grad():
        case['weights'] = enc(m(x, x, x, key_padding_mask=kpm)[1])
    out['selfPadded'] = case

    # Self-attention with a causal bool mask.
    x = randn(2, 5, 8)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    m.zero_grad()
    case = {'x': enc(x), 'attnMask': enc(causal)}
    case.update(forward_backward(m, [x], lambda m, x: m(x, x, x, attn_mask=causal, need_weights=False)[0]))
    out['selfCausal'] = case

    # Cross-attention with a float mask and per-head weights.
    q, k, v = randn(2, 3, 8), randn(2, 5, 8), randn(2, 5, 8)
    fmask = randn(3, 5)
    m.zero_grad()
    case = {'q': enc(q), 'k': enc(k), 'v': enc(v), 'attnMask': enc(fmask)}
    case.update(forward_backward(m, [q, k, v], lambda m, q, k, v: m(q, k, v, attn_mask=fmask)[0]))
    with torch.no_grad():
        case['weights'] = enc(m(q, k, v, attn_mask=fmask, average_attn_weights=False)[1])
    out['cross'] = case

    # The same weights with batch_first=False ([seq, batch, embed]).
    m2 = nn.MultiheadAttention(8, 2, batch_first=False)
    m2.load_state_dict(m.state_dict())
    xs = randn(5, 2, 8)
    with torch.no_grad():
        out['seqFirst'] = {'x': enc(xs), 'out': enc(m2(xs, xs, xs, need_weights=False)[0])}
    out['state'] = state
    return out


def nn_transformer():
    torch.manual_seed(106)
    out = {}
    configs = [
        ('postNormRelu', dict(activation='relu', norm_first=False), 'padding'),
        ('preNormGelu', dict(activation='gelu', norm_first=True), 'causal'),
    ]
    for name, cfg, masking in configs:
        m = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, **cfg)
        randomize(m)
        m.train()
        x = randn(2, 5, 8)
        case = {'options': {'activation': cfg['activation'], 'normFirst': cfg['norm_first']},
                'state': enc_state(m), 'x': enc(x),
                'parameterNames': [n for n, _ in m.named_parameters()],
                'moduleNames': [n for n, _ in m.named_modules()]}
        if masking == 'padding':
            kpm = torch.tensor([[False, False, False, False, True], [False, False, True, True, True]])
            case['keyPaddingMask'] = enc(kpm)
            case.update(forward_backward(m, [x], lambda m, x: m(x, src_key_padding_mask=kpm)))
        else:
            causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
            case['mask'] = enc(causal)
            case.update(forward_backward(m, [x], lambda m, x: m(x, src_mask=causal)))
        out[name] = case
    return out


def nn_sequential():
    torch.manual_seed(107)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(16, 5))
    randomize(m)
    m[1].num_batches_tracked.zero_()
    state = enc_state(m)
    x = randn(2, 3, 4, 4)
    case = {'state': state, 'x': enc(x)}
    case.update(forward_backward(m, [x], lambda m, x: m(x)))
    case['stateAfter'] = enc_state(m)
    named = nn.Sequential(OrderedDict([('conv', nn.Conv2d(3, 4, 3)), ('bn', nn.BatchNorm2d(4)), ('act', nn.ReLU()),
                                       ('head', nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))]))
    return {'sequential': case, 'namedKeys': list(named.state_dict().keys())}


def nn_init():
    """Layers built right after manual_seed: selfsup must draw the same numbers."""
    out = {}
    torch.manual_seed(1)
    out['linear'] = enc_state(nn.Linear(5, 3))
    torch.manual_seed(2)
    out['conv'] = enc_state(nn.Conv2d(3, 4, 3))
    out['convGrouped'] = enc_state(nn.Conv2d(4, 6, (3, 1), groups=2, bias=False))
    torch.manual_seed(3)
    out['embedding'] = enc_state(nn.Embedding(6, 4, padding_idx=1))
    torch.manual_seed(4)
    out['mha'] = enc_state(nn.MultiheadAttention(8, 2))
    torch.manual_seed(5)
    out['transformer'] = enc_state(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16))
    torch.manual_seed(6)
    out['kaimingNormalFanOutRelu'] = enc(nn.init.kaiming_normal_(torch.empty(4, 6), mode='fan_out', nonlinearity='relu'))
    out['kaimingUniformLeaky'] = enc(nn.init.kaiming_uniform_(torch.empty(3, 2, 2, 2), a=0.2))
    out['xavierUniform'] = enc(nn.init.xavier_uniform_(torch.empty(5, 3), gain=nn.init.calculate_gain('tanh')))
    out['xavierNormal'] = enc(nn.init.xavier_normal_(torch.empty(5, 3), gain=2.0))
    out['truncNormal'] = enc(nn.init.trunc_normal_(torch.empty(50), std=0.02, a=-0.03, b=0.03))
    g = torch.Generator().manual_seed(11)
    out['uniformWithGenerator'] = enc(torch.empty(3, 4).uniform_(-0.5, 0.5, generator=g))
    return out


def nn_misc():
    torch.manual_seed(108)
    x = randn(2, 3, 6, 6)
    ops = OrderedDict([
        ('maxPool3s2p1', nn.MaxPool2d(3, stride=2, padding=1)),
        ('maxPool2Ceil', nn.MaxPool2d(2, stride=2, ceil_mode=True)),
        ('avgPool2', nn.AvgPool2d(2)),
        ('avgPool3s2p1NoPad', nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
        ('adaptiveAvg2x3', nn.AdaptiveAvgPool2d((2, 3))),
        ('flatten', nn.Flatten()),
        ('relu', nn.ReLU()), ('gelu', nn.GELU()), ('geluTanh', nn.GELU(approximate='tanh')), ('silu', nn.SiLU()),
        ('sigmoid', nn.Sigmoid()), ('tanh', nn.Tanh()), ('softmax1', nn.Softmax(dim=1)),
        ('leakyRelu02', nn.LeakyReLU(0.2)),
    ])
    with torch.no_grad():
        return {'x': enc(x), 'outputs': OrderedDict((k, enc(m(x))) for k, m in ops.items())}


# ----------------------------------------------------------------------------- optim fixtures

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


OPTIM_STEPS = 6


def mlp_problem(seed):
    torch.manual_seed(seed)
    model = Mlp()
    x, y = randn(16, 4), randn(16, 3)
    return model, x, y


def run_steps(model, opt, x, y, steps=OPTIM_STEPS):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def optim_runs(seed, configs):
    model0, x, y = mlp_problem(seed)
    out = {'x': enc(x), 'y': enc(y), 'state': enc_state(model0), 'steps': OPTIM_STEPS, 'runs': OrderedDict()}
    for name, make, options in configs:
        model = Mlp()
        model.load_state_dict(model0.state_dict())
        opt = make(model)
        losses = run_steps(model, opt, x, y)
        out['runs'][name] = {'options': options, 'losses': losses, 'final': enc_state(model)}
    return out


def optim_sgd():
    def groups(model):
        return torch.optim.SGD([{'params': model.fc1.parameters(), 'lr': 0.1},
                                {'params': model.fc2.parameters(), 'momentum': 0.5}], lr=0.05, momentum=0.9)
    sgd = torch.optim.SGD
    return optim_runs(200, [
        ('plain', lambda m: sgd(m.parameters(), lr=0.1), {'lr': 0.1}),
        ('momentumDampening', lambda m: sgd(m.parameters(), lr=0.05, momentum=0.9, dampening=0.1),
         {'lr': 0.05, 'momentum': 0.9, 'dampening': 0.1}),
        ('nesterovWeightDecay', lambda m: sgd(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
         {'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 0.01}),
        ('maximize', lambda m: sgd(m.parameters(), lr=0.01, momentum=0.5, maximize=True),
         {'lr': 0.01, 'momentum': 0.5, 'maximize': True}),
        ('groups', groups, None),
    ])


def optim_adam():
    adam, adamw = torch.optim.Adam, torch.optim.AdamW
    return optim_runs(201, [
        ('adam', lambda m: adam(m.parameters(), lr=1e-2), {'lr': 1e-2}),
        ('adamAmsgradL2', lambda m: adam(m.parameters(), lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True),
         {'lr': 1e-2, 'betas': [0.8, 0.99], 'eps': 1e-6, 'weightDecay': 0.1, 'amsgrad': True}),
        ('adamw', lambda m: adamw(m.parameters(), lr=1e-2, weight_decay=0.1), {'lr': 1e-2, 'weightDecay': 0.1}),
        ('adamwDefaults', lambda m: adamw(m.parameters()), {}),
        ('adamwAmsgrad', lambda m: adamw(m.parameters(), lr=5e-3, weight_decay=0.05, amsgrad=True),
         {'lr': 5e-3, 'weightDecay': 0.05, 'amsgrad': True}),
    ])


def optim_clip():
    torch.manual_seed(202)
    grads = [randn(3, 4), randn(5), randn(2, 2, 2) * 3]
    out = {'grads': [enc(g) for g in grads], 'cases': []}
    for max_norm, norm_type in [(1.0, 2.0), (0.5, 1.0), (0.1, math.inf), (100.0, 2.0), (2.0, 3.0)]:
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        out['cases'].append({'maxNorm': max_norm, 'normType': 'inf' if norm_type == math.inf else norm_type,
                             'total': total.item(), 'clipped': [enc(p.grad) for p in params]})
    return out


def lr_sequence(opt, sched, steps, momentum_key=None):
    def snapshot():
        lrs = [g['lr'] for g in opt.param_groups]
        if momentum_key == 'betas':
            return lrs, [g['betas'][0] for g in opt.param_groups]
        if momentum_key == 'momentum':
            return lrs, [g['momentum'] for g in opt.param_groups]
        return lrs, None
    lrs, moms = [], []
    for i in range(steps + 1):
        if i > 0:
            opt.step()
            sched.step()
        lr, mom = snapshot()
        lrs.append(lr)
        moms.append(mom)
    return {'lrs': lrs, 'momentums': moms if momentum_key else None}


def optim_schedulers():
    from torch.optim import lr_scheduler as S

    def two_groups(cls=torch.optim.SGD, **kw):
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        return cls([{'params': [a], 'lr': 0.1}, {'params': [b], 'lr': 0.01}], **kw)

    def one_group(lr=0.1, cls=torch.optim.SGD, **kw):
        return cls([torch.zeros(2, requires_grad=True)], lr=lr, **kw)

    out = {}
    opt = two_groups(momentum=0.9)
    out['stepLR'] = {'baseLrs': [0.1, 0.01], 'options': {'stepSize': 3, 'gamma': 0.5},
                     **lr_sequence(opt, S.StepLR(opt, step_size=3, gamma=0.5), 12)}
    opt = one_group()
    out['multiStepLR'] = {'baseLrs': [0.1], 'options': {'milestones': [2, 5, 9], 'gamma': 0.3},
                          **lr_sequence(opt, S.MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.3), 12)}
    # Linear warmup then cosine, as PyTorch composes it.
    warmup, total, min_lr = 5, 30, 1e-3
    opt = one_group()
    seq = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
                               S.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)], milestones=[warmup])
    out['warmupCosine'] = {'baseLrs': [0.1], 'options': {'warmupSteps': warmup, 'totalSteps': total, 'minLr': min_lr},
                           **lr_sequence(opt, seq, total)}
    opt = one_group()
    out['cosine'] = {'baseLrs': [0.1], 'options': {'warmupSteps': 0, 'totalSteps': 20, 'minLr': 1e-3},
                     **lr_sequence(opt, S.CosineAnnealingLR(opt, T_max=20, eta_min=1e-3), 20)}
    opt = one_group(momentum=0.9)
    out['oneCycle'] = {'baseLrs': [0.1], 'optimizer': 'sgd', 'options': {'maxLr': 0.5, 'totalSteps': 25},
                       **lr_sequence(opt, S.OneCycleLR(opt, max_lr=0.5, total_steps=25), 25, 'momentum')}
    opt = two_groups(torch.optim.Adam)
    sched = S.OneCycleLR(opt, max_lr=[0.1, 0.01], total_steps=20, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                         anneal_strategy='linear', three_phase=True, base_momentum=0.8, max_momentum=0.9)
    out['oneCycleAdamThreePhase'] = {
        'baseLrs': [0.1, 0.01], 'optimizer': 'adam',
        'options': {'maxLr': [0.1, 0.01], 'totalSteps': 20, 'pctStart': 0.25, 'divFactor': 10.0, 'finalDivFactor': 100.0,
                    'annealStrategy': 'linear', 'threePhase': True, 'baseMomentum': 0.8, 'maxMomentum': 0.9},
        **lr_sequence(opt, sched, 20, 'betas')}
    return out


FIXTURES = OrderedDict([
    ('nn_linear.json', nn_linear), ('nn_conv2d.json', nn_conv2d), ('nn_batchnorm.json', nn_batchnorm),
    ('nn_layernorm.json', nn_layernorm), ('nn_embedding.json', nn_embedding), ('nn_attention.json', nn_attention),
    ('nn_transformer.json', nn_transformer), ('nn_sequential.json', nn_sequential), ('nn_init.json', nn_init),
    ('nn_misc.json', nn_misc),
    ('optim_sgd.json', optim_sgd), ('optim_adam.json', optim_adam), ('optim_clip.json', optim_clip),
    ('optim_schedulers.json', optim_schedulers),
])


def main():
    check = '--check' in sys.argv[1:]
    os.makedirs(OUT_DIR, exist_ok=True)
    stale = []
    total = 0
    for name, make in FIXTURES.items():
        payload = {'generator': 'scripts/make_fixtures.py', 'torch': torch.__version__, **make()}
        text = json.dumps(payload, separators=(',', ':'), allow_nan=False) + '\n'
        total += len(text)
        path = os.path.join(OUT_DIR, name)
        if check:
            with open(path) as f:
                if f.read() != text:
                    stale.append(name)
        else:
            with open(path, 'w') as f:
                f.write(text)
    if stale:
        sys.exit('fixtures differ from what scripts/make_fixtures.py writes: ' + ', '.join(stale))
    print(('checked' if check else 'wrote') + f' {len(FIXTURES)} fixtures, {total / 1024:.0f} KiB in all')


if __name__ == '__main__':
    main()
