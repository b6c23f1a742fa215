"""The label-efficiency protocol of `selfsup demo` in PyTorch, for comparison.

Same data (Debian's Fashion-MNIST IDX files), model (small CNN, widths 32/64/128),
rotation pretraining (300 steps of 128 images x 4 rotations, SGD Nesterov, warm-up
then cosine), and fine-tuning (block1 frozen with its BN statistics, Adam, 150 steps,
crop+flip) as src/experiment/defaults.ts; k labels per class drawn per seed.
Prints one JSON line: mean/std/runs for scratch and rotation-finetune.

    /usr/bin/python3 bench/protocol_torch.py --k 10 --seeds 0,1,2,3,4 --threads 2
"""
import argparse, gzip, json, math, struct, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

DIR = '/usr/share/datasets/fashion-mnist'


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def cbr(a, b):
    return [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(*cbr(1, 32), *cbr(32, 32), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(*cbr(32, 64), *cbr(64, 64), nn.MaxPool2d(2))
        self.block3 = nn.Sequential(*cbr(64, 128))

    def forward(self, x):
        return F.adaptive_avg_pool2d(self.block3(self.block2(self.block1(x))), 1).flatten(1)


def augment(x, gen, crop=2, flip=True):
    n, _, h, w = x.shape
    p = F.pad(x, (crop, crop, crop, crop))
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


def train(model, params, images, labels, steps, batch, opt, warmup, gen, rotation=False):
    base = opt.param_groups[0]['lr']
    n = images.shape[0]
    step = 0
    while step < steps:
        order = torch.randperm(n, generator=gen)
        for b in range(n // batch):
            if step >= steps:
                break
            for g in opt.param_groups:
                g['lr'] = lr_at(step, base, warmup, steps)
            idx = order[b * batch:(b + 1) * batch]
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
            step += 1


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
    ap.add_argument('--pretrain-steps', type=int, default=300)
    ap.add_argument('--finetune-steps', type=int, default=150)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    tr_x = torch.from_numpy(read_idx(f'{DIR}/train-images-idx3-ubyte.gz').copy()).float().div(255).unsqueeze(1)
    tr_y = torch.from_numpy(read_idx(f'{DIR}/train-labels-idx1-ubyte.gz').astype(np.int64))
    te_x = torch.from_numpy(read_idx(f'{DIR}/t10k-images-idx3-ubyte.gz').copy()).float().div(255).unsqueeze(1)
    te_y = torch.from_numpy(read_idx(f'{DIR}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    mean, std = tr_x.mean().item(), tr_x.std().item()
    tr_x, te_x = (tr_x - mean) / std, (te_x - mean) / std

    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    perm = torch.randperm(len(tr_x), generator=gen)
    unlabelled = tr_x[perm[1000:]]
    encoder = SmallCnn()
    model = nn.Sequential(encoder, nn.Linear(128, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    train(model, None, unlabelled, None, a.pretrain_steps, 128, opt, 20, gen, rotation=True)
    pretrained = {k: v.clone() for k, v in encoder.state_dict().items()}
    pretrain_s = time.time() - t0

    results = {'scratch': [], 'rotation-finetune': []}
    for seed in [int(s) for s in a.seeds.split(',')]:
        g = torch.Generator().manual_seed(seed)
        idx = torch.cat([torch.nonzero(tr_y == c).flatten()[torch.randperm(int((tr_y == c).sum()), generator=g)[:a.k]] for c in range(10)])
        for method in results:
            torch.manual_seed(seed)
            enc = SmallCnn()
            if method == 'rotation-finetune':
                enc.load_state_dict(pretrained)
                for p in enc.block1.parameters():
                    p.requires_grad_(False)
            clf = nn.Sequential(enc, nn.Linear(128, 10))
            clf.train()
            if method == 'rotation-finetune':
                enc.block1.eval()  # frozen BN statistics
            opt = torch.optim.Adam([p for p in clf.parameters() if p.requires_grad], lr=1e-3)
            train(clf, None, tr_x[idx], tr_y[idx], a.finetune_steps, min(128, len(idx)), opt, 0, g)
            results[method].append(accuracy(clf, te_x, te_y))
    out = {'impl': 'pytorch', 'k': a.k, 'pretrain_seconds': pretrain_s, 'seconds': time.time() - t0}
    for m, runs in results.items():
        out[m] = {'mean': float(np.mean(runs)), 'std': float(np.std(runs, ddof=1)) if len(runs) > 1 else 0.0, 'runs': runs}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
