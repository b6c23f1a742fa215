"""The PyTorch side of the RotNet training-step benchmark (see bench/rotnet-step.ts).

Same model, same batch and the same SGD step as selfsup's side; prints one JSON line.
Run with Debian's PyTorch: /usr/bin/python3 bench/rotnet_step.py --threads 2 --steps 20
(--device cuda for the GPU; see scripts/device-check.sh)
"""
import argparse, json, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def rotnet_cnn():
    # 5 conv layers, widths 32/64/128, on 28x28 grey images; 4-way rotation head.
    return nn.Sequential(
        *conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
        *conv_bn_relu(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 4))


def rotate_batch(x):
    xs = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    ys = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
    return xs, ys


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--device', default='cpu')
    p.add_argument('--profile', action='store_true', help='after the timed steps, as many more under torch.autograd.profiler; adds ops (top 30, ms per step)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = rotnet_cnn().to(a.device)  # initialised on the CPU, as in selfsup
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    images = torch.rand(a.batch * 8, 1, 28, 28, device=a.device)
    sync = torch.cuda.synchronize if images.is_cuda else (lambda: None)

    def step(i):
        x = images[(i % 8) * a.batch:(i % 8 + 1) * a.batch]
        xs, ys = rotate_batch(x)
        loss = F.cross_entropy(model(xs), ys)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    sync()
    t0 = time.perf_counter()
    for i in range(a.steps):
        loss = step(i)
    sync()
    dt = time.perf_counter() - t0
    result = {
        'impl': 'pytorch', 'torch': torch.__version__, 'device': a.device, 'threads': torch.get_num_threads(),
        'images_per_step': a.batch * 4, 'steps': a.steps, 'seconds': dt,
        'img_per_s': a.batch * 4 * a.steps / dt, 'last_loss': loss,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if a.profile:
        from torch_profile import profile_ops
        rows, wall = profile_ops(lambda: ([step(i) for i in range(a.steps)], sync()))
        result['profile_wall_ms'] = wall / a.steps
        result['ops_self_ms'] = sum(r['selfMs'] for r in rows) / a.steps
        result['ops'] = [dict(r, calls=r['calls'] / a.steps, selfMs=r['selfMs'] / a.steps, totalMs=r['totalMs'] / a.steps) for r in rows[:30]]
    print(json.dumps(result))


if __name__ == '__main__':
    main()
