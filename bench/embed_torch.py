#!/usr/bin/python3
"""PyTorch side of bench/embed-bench.ts: the encoder rebuilt by scripts/selfsup_encoder.py
embeds the first N Fashion-MNIST test images (uint8 -> float in [0, 1] -> normalise ->
features), after a warm-up batch. Prints one JSON line."""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
from selfsup_encoder import load_encoder, fashion_mnist_test  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--encoder', required=True)
p.add_argument('--images', type=int, default=5000)
p.add_argument('--batch', type=int, default=256)
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
model, _ = load_encoder(a.encoder)
x = (fashion_mnist_test(a.images) * 255).round().to(torch.uint8)


def run(count):
    s = 0.0
    t = time.perf_counter()
    with torch.no_grad():
        for start in range(0, count, a.batch):
            xb = x[start:start + a.batch].float() / 255
            s += float(model.embed(xb)[0, 0])
    return time.perf_counter() - t, s


run(a.batch)
seconds, checksum = run(a.images)
print(json.dumps({'impl': 'pytorch', 'images': a.images, 'seconds': seconds, 'img_per_s': a.images / seconds,
                  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'checksum': checksum}))
