"""The PyTorch side of the masked-LM step benchmark (see bench/text-step.ts).

The same model as src/ssl/methods/masked-lm.ts (src/models/text-transformer.ts: token and
position embeddings, pre-norm GELU transformer layers with a key-padding mask, a final
LayerNorm; BERT's head: dense + GELU + LayerNorm, scores tied to the token embedding, an
output bias), the same sampled softmax (src/ssl/losses/sampled-softmax.ts: 1,024 negatives
per step from a Walker alias table over counts^0.75, logits corrected by -log(K q), accidental
hits masked), the same AdamW groups and the trainer's step order, on the batches file
text-step.ts wrote. Prints one JSON line.
Run with Debian's PyTorch: /usr/bin/python3 bench/text_step.py --file batches.json --threads 2
"""
import argparse, json, math, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD_ID, IGNORE_INDEX = 0, -100


class TextEncoder(nn.Module):
    def __init__(self, vocab, c):
        super().__init__()
        d = c['d_model']
        self.tok_embed = nn.Embedding(vocab, d, padding_idx=PAD_ID)
        self.pos_embed = nn.Embedding(c['max_len'], d)
        with torch.no_grad():
            self.tok_embed.weight.normal_(0, 0.02)
            self.tok_embed.weight[PAD_ID].zero_()
            self.pos_embed.weight.normal_(0, 0.02)
        self.embed_dropout = nn.Dropout(c['dropout'])
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(d, c['heads'], c['dim_feedforward'], dropout=c['dropout'], activation='gelu',
                                                               batch_first=True, norm_first=True) for _ in range(c['layers']))
        self.norm = nn.LayerNorm(d)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1])
        x = self.embed_dropout(self.tok_embed(ids) + self.pos_embed(positions))
        pad = ids.eq(PAD_ID)
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        return self.norm(x)


class AliasSampler:
    """Vose's alias table, sampled as src/data/text/noise.ts does (one randint, one rand, a where)."""

    def __init__(self, q):
        n = len(q)
        scaled = [p * n for p in q]
        prob, alias = [0.0] * n, list(range(n))
        small = [i for i, s in enumerate(scaled) if s < 1]
        large = [i for i, s in enumerate(scaled) if s >= 1]
        while small and large:
            s, l = small.pop(), large.pop()
            prob[s], alias[s] = scaled[s], l
            scaled[l] = scaled[l] + scaled[s] - 1
            (small if scaled[l] < 1 else large).append(l)
        for i in small + large:
            prob[i] = 1.0
        self.prob, self.alias, self.size = torch.tensor(prob, dtype=torch.float32), torch.tensor(alias, dtype=torch.int64), n

    def sample(self, k):
        column = torch.randint(0, self.size, (k,))
        return torch.where(torch.rand(k) < self.prob[column], column, self.alias[column])


class MaskedLM(nn.Module):
    def __init__(self, vocab, c, counts):
        super().__init__()
        d = c['d_model']
        self.encoder = TextEncoder(vocab, c)
        self.transform = nn.Linear(d, d)
        self.transform_norm = nn.LayerNorm(d)
        self.output_bias = nn.Parameter(torch.zeros(vocab))
        powered = [x ** 0.75 for x in counts]
        total = sum(powered)
        q = [p / total for p in powered]
        self.negatives = c['sampled_negatives']
        self.sampler = AliasSampler(q)
        log_k = math.log(self.negatives)
        self.log_expected = torch.tensor([log_k + math.log(p) if p > 0 else 0.0 for p in q], dtype=torch.float32)

    def loss(self, ids, labels):
        chosen = labels.ne(IGNORE_INDEX)
        int(chosen.sum())  # selfsup reads the count (it returns it with the loss)
        hidden = self.encoder(ids)
        target = labels[chosen]
        h = self.transform_norm(F.gelu(self.transform(hidden[chosen])))
        weight, bias = self.encoder.tok_embed.weight, self.output_bias
        sampled = self.sampler.sample(self.negatives)
        true_logit = (h * weight[target]).sum(1) + bias[target] - self.log_expected[target]
        neg_logits = F.linear(h, weight[sampled], bias[sampled] - self.log_expected[sampled])
        hits = target.unsqueeze(1).eq(sampled.unsqueeze(0))
        logits = torch.cat([true_logit.unsqueeze(1), neg_logits.masked_fill(hits, -math.inf)], 1)
        return F.cross_entropy(logits, torch.zeros_like(target))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--file', required=True)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=60)
    p.add_argument('--warmup', type=int, default=10)
    p.add_argument('--profile', action='store_true', help='after the timed steps, as many more under torch.autograd.profiler; adds ops (top 30, ms per step)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(a.file) as fh:
        f = json.load(fh)
    c = f['config']
    model = MaskedLM(f['vocab_size'], c, f['counts'])
    model.train()
    table = model.encoder.tok_embed.weight
    rest = [q for q in model.parameters() if q is not table]
    opt = torch.optim.AdamW([
        dict(params=[table], lr=c['lr'] * c['embedding_lr_scale'], weight_decay=c['embedding_weight_decay']),
        dict(params=rest, lr=c['lr'], weight_decay=c['weight_decay']),
    ])
    batches = [(torch.tensor(b['input'], dtype=torch.int64).view(*b['shape']), torch.tensor(b['labels'], dtype=torch.int64).view(*b['shape']))
               for b in f['batches']]
    params = [q for q in model.parameters() if q.requires_grad]
    phases = dict(forward=0.0, backward=0.0, clip=0.0, optimizer=0.0)

    def step(i):
        ids, labels = batches[i % len(batches)]
        t = time.perf_counter()
        loss = model.loss(ids, labels)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        t3 = time.perf_counter()
        value = loss.item()
        opt.step()
        t4 = time.perf_counter()
        for k, d in zip(phases, (t1 - t, t2 - t1, t3 - t2, t4 - t3)):
            phases[k] += d * 1000
        return value

    losses = [step(i) for i in range(a.warmup)]
    phases = dict.fromkeys(phases, 0.0)
    t0 = time.perf_counter()
    losses += [step(i) for i in range(a.warmup, a.warmup + a.steps)]
    dt = time.perf_counter() - t0
    result = {
        'impl': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'steps': a.steps, 'warmup': a.warmup, 'seconds': dt,
        'steps_per_s': a.steps / dt, 'ms_per_step': 1000 * dt / a.steps, 'phases_ms': {k: v / a.steps for k, v in phases.items()},
        'first_loss': losses[0], 'last_loss': losses[-1], 'losses': losses,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if a.profile:
        from torch_profile import profile_steps
        result.update(profile_steps(step, a.warmup + a.steps, a.steps))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
