"""The label-efficiency protocol of `selfsup demo` in PyTorch, for comparison.

Same data (Debian's Fashion-MNIST IDX files), model (small CNN, widths 32/64/128),
pretraining and fine-tuning as src/experiment/defaults.ts, for each method asked for:
  rotation: 300 steps of 128 images x 4 rotations, SGD Nesterov, warm-up then cosine,
            loader crop 2 + flip (ROTATION_DEFAULTS);
  simclr, byol (any method of bench/ssl_torch.py's Method): 1000 steps of 256 images,
            Adam 1e-3 / L2 1e-6, 100 warm-up steps then cosine (JOINT_EMBEDDING_DEFAULTS),
            the method's own views, heads, loss and momentum updates.
All pretraining uses the same training images less a held-out 1000 (as selfsup, which keeps
them for its monitors). Then for each seed, k labels per class, and per method:
  <method>-finetune: block1 frozen with its BN statistics, Adam 1e-3, 150 steps, crop 2 + flip;
  <method>-knn: k=20, T=0.07 cosine vote of the labelled images' pooled block3 features;
  scratch: the same fine-tuning from a fresh network, nothing frozen.
Prints one JSON line: mean/std/runs per entry, and each method's pretraining time.

    /usr/bin/python3 bench/protocol_torch.py --k 10 --seeds 0,1,2,3,4 --threads 2 --methods rotation,simclr,byol
"""
import argparse, gzip, json, math, struct, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from ssl_torch import SmallCnn, Method

DIR = '/usr/share/datasets/fashion-mnist'
JOINT_STEPS = 1000  # jointEmbeddingPretrain(1000) in src/experiment/defaults.ts
JOINT_METHODS = ('simclr', 'moco', 'byol', 'simsiam', 'barlow-twins', 'vicreg', 'dino')


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


# The value a crop pads the normalised images with: a raw 0 (black, the background), as
# selfsup's loader pads the raw images and normalises after. Padding the normalised images
# with 0 instead gave a mean-grey border (set in main once the statistics are known).
PAD_FILL = 0.0


def augment(x, gen, crop=2, flip=True, fill=None):
    fill = PAD_FILL if fill is None else fill
    n, _, h, w = x.shape
    p = F.pad(x, (crop, crop, crop, crop), value=fill)
    dy = torch.randint(0, 2 * crop + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * crop + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].expand(n, 1, h, w + 2 * crop)
    out = p.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].expand(n, 1, h, w)
    out = out.gather(3, cols)
    if flip:
        m = torch.rand(n, generator=gen) < 0.5
        out[m] = out[m].flip(3)
    return out


def lr_at(step, base, warmup, total):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def batches(n, batch, steps, gen):
    # Reshuffled epochs, last partial batch dropped (selfsup's loader: dropLast), until `steps`.
    step = 0
    while step < steps:
        order = torch.randperm(n, generator=gen)
        for b in range(n // batch):
            if step >= steps:
                return
            yield step, order[b * batch:(b + 1) * batch]
            step += 1


def train(model, images, labels, steps, batch, opt, warmup, gen, rotation=False):
    base = opt.param_groups[0]['lr']
    # A warm-up longer than the run is cut to fit, as selfsup's pretrain does.
    warmup = min(warmup, max(0, steps - 1))
    for step, idx in batches(images.shape[0], batch, steps, gen):
        for g in opt.param_groups:
            g['lr'] = lr_at(step, base, warmup, steps)
        x = augment(images[idx], gen)
        if rotation:
            y = torch.arange(4).repeat_interleave(x.shape[0])
            x = torch.cat([torch.rot90(x, k, (2, 3)) for k in range(4)])
        else:
            y = labels[idx]
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def pretrain_rotation(images, steps, gen, seed=0):
    torch.manual_seed(seed)
    encoder = SmallCnn()
    model = nn.Sequential(encoder, nn.Linear(128, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    train(model, images, None, steps, 128, opt, 20, gen, rotation=True)
    return encoder


def pretrain_joint(name, raw, norm, steps, batch, warmup, gen, seed=0):
    # The method's step of bench/ssl_torch.py (views from raw [0, 1] images, normalised inside), under
    # the pretraining loop of src/ssl/pretrain.ts: warm-up + cosine to the last step, after-step hooks.
    torch.manual_seed(seed)
    m = Method(name, norm)
    m.t_total = steps
    for mod in m.modules.values():
        mod.train()
    opt = m.optimizer()
    base = opt.param_groups[0]['lr']
    warmup = min(warmup, max(0, steps - 1))
    for step, idx in batches(raw.shape[0], batch, steps, gen):
        for g in opt.param_groups:
            g['lr'] = lr_at(step, base, warmup, steps)
        loss = m.loss(m.views(raw[idx]), step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        m.after_step(step)
    return m.enc


@torch.no_grad()
def features(enc, images):
    enc.eval()
    return torch.cat([enc(images[i:i + 500]) for i in range(0, len(images), 500)])


@torch.no_grad()
def knn_accuracy(enc, tr_x, tr_y, te_x, te_y, k=20, t=0.07, classes=10):
    # src/eval/knn.ts: cosine similarity, the k nearest vote with weight exp(sim / T).
    f = F.normalize(features(enc, tr_x), dim=1)
    q = F.normalize(features(enc, te_x), dim=1)
    vals, idx = (q @ f.T).topk(min(k, f.shape[0]), dim=1)
    votes = torch.zeros(q.shape[0], classes).scatter_add_(1, tr_y[idx], (vals / t).exp())
    return (votes.argmax(1) == te_y).float().mean().item()


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(1) == labels[i:i + 500]).sum().item() for i in range(0, len(images), 500))
    return correct / len(images)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--k', type=int, default=10)
    ap.add_argument('--seeds', default='0,1,2,3,4')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--methods', default='rotation', help='comma-separated: rotation and/or ' + ', '.join(JOINT_METHODS))
    ap.add_argument('--pretrain-steps', type=int, default=300, help="rotation's pretraining steps")
    for m in JOINT_METHODS:
        ap.add_argument(f'--pretrain-steps-{m}', type=int, default=JOINT_STEPS)
    ap.add_argument('--joint-batch', type=int, default=256)
    ap.add_argument('--joint-warmup', type=int, default=100)
    ap.add_argument('--finetune-steps', type=int, default=150)
    ap.add_argument('--pretrain-seed', type=int, default=0, help="seed of the pretraining's initialisation, data order and held-out split (the experiment's config seed)")
    ap.add_argument('--limit', type=int, default=0, help='use only the first N training images (smoke runs)')
    ap.add_argument('--test-limit', type=int, default=0, help='evaluate on the first N test images')
    a = ap.parse_args()
    methods = [m for m in a.methods.split(',') if m]
    for m in methods:
        if m != 'rotation' and m not in JOINT_METHODS:
            raise SystemExit(f'protocol_torch.py: unknown method {m!r}')
    torch.set_num_threads(a.threads)
    t0 = time.time()
    tr_raw = torch.from_numpy(read_idx(f'{DIR}/train-images-idx3-ubyte.gz').copy()).float().div(255).unsqueeze(1)
    tr_y = torch.from_numpy(read_idx(f'{DIR}/train-labels-idx1-ubyte.gz').astype(np.int64))
    te_x = torch.from_numpy(read_idx(f'{DIR}/t10k-images-idx3-ubyte.gz').copy()).float().div(255).unsqueeze(1)
    te_y = torch.from_numpy(read_idx(f'{DIR}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    if a.limit:
        tr_raw, tr_y = tr_raw[:a.limit], tr_y[:a.limit]
    if a.test_limit:
        te_x, te_y = te_x[:a.test_limit], te_y[:a.test_limit]
    # Statistics of the training images in use, as selfsup's channelStats.
    mean, std = tr_raw.mean().item(), tr_raw.std().item()
    tr_x, te_x = (tr_raw - mean) / std, (te_x - mean) / std
    global PAD_FILL
    PAD_FILL = (0.0 - mean) / std

    gen = torch.Generator().manual_seed(a.pretrain_seed)
    torch.manual_seed(a.pretrain_seed)
    perm = torch.randperm(len(tr_x), generator=gen)
    held = min(1000, len(tr_x) // 5)
    encoders, pretrain_info = {}, {}
    for m in methods:
        t = time.time()
        if m == 'rotation':
            steps = a.pretrain_steps
            enc = pretrain_rotation(tr_x[perm[held:]], steps, gen, a.pretrain_seed)
        else:
            steps = getattr(a, f'pretrain_steps_{m.replace("-", "_")}')
            enc = pretrain_joint(m, tr_raw[perm[held:]], (mean, std), steps, a.joint_batch, a.joint_warmup, gen, a.pretrain_seed)
        encoders[m] = {k: v.clone() for k, v in enc.state_dict().items()}
        dt = time.time() - t
        pretrain_info[m] = {'steps': steps, 'seconds': dt, 'ms_per_step': 1000 * dt / max(1, steps)}
    pretrain_s = time.time() - t0

    results = {'scratch': []}
    for m in methods:
        results[f'{m}-finetune'] = []
        results[f'{m}-knn'] = []
    for seed in [int(s) for s in a.seeds.split(',')]:
        g = torch.Generator().manual_seed(seed)
        idx = torch.cat([torch.nonzero(tr_y == c).flatten()[torch.randperm(int((tr_y == c).sum()), generator=g)[:a.k]] for c in range(10)])
        for entry in ['scratch'] + [f'{m}-finetune' for m in methods]:
            torch.manual_seed(seed)
            enc = SmallCnn()
            pretrained = entry != 'scratch'
            if pretrained:
                enc.load_state_dict(encoders[entry[:-len('-finetune')]])
                for p in enc.block1.parameters():
                    p.requires_grad_(False)
            clf = nn.Sequential(enc, nn.Linear(128, 10))
            clf.train()
            if pretrained:
                enc.block1.eval()  # frozen BN statistics
            opt = torch.optim.Adam([p for p in clf.parameters() if p.requires_grad], lr=1e-3)
            train(clf, tr_x[idx], tr_y[idx], a.finetune_steps, min(128, len(idx)), opt, 0, g)
            results[entry].append(accuracy(clf, te_x, te_y))
        for m in methods:
            enc = SmallCnn()
            enc.load_state_dict(encoders[m])
            results[f'{m}-knn'].append(knn_accuracy(enc, tr_x[idx], tr_y[idx], te_x, te_y))
    out = {'impl': 'pytorch', 'k': a.k, 'methods': methods, 'pretrain': pretrain_info, 'pretrain_seconds': pretrain_s, 'seconds': time.time() - t0}
    for m, runs in results.items():
        out[m] = {'mean': float(np.mean(runs)), 'std': float(np.std(runs, ddof=1)) if len(runs) > 1 else 0.0, 'runs': runs}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
