"""The PyTorch side of the skip-gram benchmark (see bench/skipgram-bench.ts).

Trains the same model (sparse in/out embeddings, negative-sampling loss, the context
and its negatives in one lookup) on the same batches, from the same initial vectors,
with torch.optim.SparseAdam or SGD, and prints one JSON line.
Run with Debian's PyTorch: /usr/bin/python3 bench/skipgram_torch.py --data DIR --threads 2
"""
import argparse, json, os, resource, time
import numpy as np
import torch
import torch.nn.functional as F


def load(data, name, dtype, shape):
    return torch.from_numpy(np.fromfile(os.path.join(data, name), dtype=dtype).reshape(shape))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True, help='folder written by skipgram-bench.ts')
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.data, 'meta.json')) as f:
        meta = json.load(f)
    steps, batch, k, vocab, dim = meta['steps'], meta['batch'], meta['negatives'], meta['vocab'], meta['dim']
    centers = load(a.data, 'centers.bin', np.int64, (steps, batch))
    contexts = load(a.data, 'contexts.bin', np.int64, (steps, batch))
    negatives = load(a.data, 'negatives.bin', np.int64, (steps, batch, k))
    inp = torch.nn.Embedding(vocab, dim, sparse=True)
    out = torch.nn.Embedding(vocab, dim, sparse=True)
    with torch.no_grad():
        inp.weight.copy_(load(a.data, 'in.bin', np.float32, (vocab, dim)))
        out.weight.copy_(load(a.data, 'out.bin', np.float32, (vocab, dim)))
    params = list(inp.parameters()) + list(out.parameters())
    if meta['optimizer'] == 'sgd':
        opt = torch.optim.SGD(params, lr=meta['lr'] * batch)
    else:
        opt = torch.optim.SparseAdam(params, lr=meta['lr'])

    def step(i):
        u = inp(centers[i])
        v = out(torch.cat([contexts[i].unsqueeze(1), negatives[i]], 1))
        scores = torch.bmm(v, u.unsqueeze(2)).squeeze(2)
        loss = -(F.logsigmoid(scores[:, 0]) + F.logsigmoid(-scores[:, 1:]).sum(1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    warmup = meta['warmup']
    losses = [step(i) for i in range(warmup)]
    t0 = time.perf_counter()
    for i in range(warmup, steps):
        losses.append(step(i))
    dt = time.perf_counter() - t0
    timed = steps - warmup
    print(json.dumps({
        'impl': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'steps': timed, 'seconds': dt, 'pairs_per_s': timed * batch / dt,
        'first_loss': losses[0], 'last_loss': losses[-1],
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == '__main__':
    main()
