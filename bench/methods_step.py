"""The PyTorch side of the per-method pretraining-step benchmark (see bench/methods-step.ts).

The same step as bench/methods-selfsup.ts for one method: the model, heads, losses,
optimizer, momentum updates, MoCo queue, DINO centre and views of bench/ssl_torch.py
(which follow src/). Prints one JSON line.
Run with Debian's PyTorch: /usr/bin/python3 bench/methods_step.py --method simclr --threads 2
"""
import argparse, gzip, json, resource, time
import numpy as np
import torch
from ssl_torch import MEAN, STD, Method

FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'
BATCHES = 8

def load_images(n):
    with gzip.open(FASHION, 'rb') as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return torch.from_numpy(raw[:n * 784].copy()).view(n, 1, 28, 28).float().div_(255)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--method', required=True)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--profile', action='store_true', help='after the timed steps, as many more under torch.autograd.profiler; adds ops (top 30, ms per step)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = Method(a.method)
    m.t_total = a.warmup + a.steps
    opt = m.optimizer()
    # The same first BATCHES * batch training images; rotation's and MAE's are normalised up front, as their loader does.
    images = load_images(BATCHES * a.batch)
    if a.method in ('rotation', 'mae'):
        images = (images - MEAN) / STD
    phases = dict(views=0.0, forward=0.0, backward=0.0, optimizer=0.0, after=0.0)

    def step(i):
        x = images[(i % BATCHES) * a.batch:(i % BATCHES + 1) * a.batch]
        t = time.perf_counter()
        v = m.views(x)
        t1 = time.perf_counter()
        loss = m.loss(v, i)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        value = loss.item()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        m.after_step(i)
        t5 = time.perf_counter()
        for k, d in zip(phases, (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            phases[k] += d * 1000
        return value

    losses = [step(i) for i in range(a.warmup)]
    phases = dict.fromkeys(phases, 0.0)
    t0 = time.perf_counter()
    losses += [step(i) for i in range(a.warmup, a.warmup + a.steps)]
    dt = time.perf_counter() - t0
    result = {
        'impl': 'pytorch', 'torch': torch.__version__, 'method': a.method, 'threads': torch.get_num_threads(),
        'batch': a.batch, 'steps': a.steps, 'warmup': a.warmup, 'seconds': dt,
        'img_per_s': a.batch * a.steps / dt, 'ms_per_step': 1000 * dt / a.steps,
        'phases_ms': {k: v / a.steps for k, v in phases.items()},
        'first_loss': losses[0], 'last_loss': losses[-1], 'losses': losses,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if a.profile:
        from torch_profile import profile_steps
        result.update(profile_steps(step, a.warmup + a.steps, a.steps))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
