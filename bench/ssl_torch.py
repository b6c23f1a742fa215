"""PyTorch versions of selfsup's image SSL pieces, shared by the benchmarks.

The small CNN of src/models/small-cnn.ts (blocks block1..block3, as selfsup names them,
so a protocol can freeze block1), the heads of src/ssl/heads.ts, the batched view ops of
src/ssl/transforms, the losses of src/ssl/losses, the momentum updates of
src/ssl/momentum.ts, and each method's step (class Method) with the sizes of
src/ssl/methods/*.ts. Imported by bench/methods_step.py (step timing) and
bench/protocol_torch.py (the label-efficiency protocol).
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's training-set statistics, as on the selfsup side
ADAM = dict(lr=1e-3, weight_decay=1e-6)  # JOINT_EMBEDDING_DEFAULTS (Adam, L2 penalty as selfsup's Adam)



def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class SmallCnn(nn.Module):
    # SmallCnn: three blocks, widths 32/64/128, then the pooled 128-d embedding (block3's, pooled).
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(*conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(*conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2))
        self.block3 = nn.Sequential(*conv_bn_relu(64, 128))

    def forward(self, x):
        return F.adaptive_avg_pool2d(self.block3(self.block2(self.block1(x))), 1).flatten(1)


def small_cnn():
    return SmallCnn()


def mlp(dims, batch_norm=True, last_batch_norm=False):
    # src/ssl/heads.ts mlp(): hidden Linear (no bias before BN) -> BN -> ReLU; optional affine-free BN at the end.
    layers = []
    for i in range(len(dims) - 1):
        last = i + 2 == len(dims)
        layers.append(nn.Linear(dims[i], dims[i + 1], bias=(not last_batch_norm) if last else not batch_norm))
        if not last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(dims[i + 1]))
            layers.append(nn.ReLU())
        elif last_batch_norm:
            layers.append(nn.BatchNorm1d(dims[i + 1], affine=False))
    return nn.Sequential(*layers)


class DinoHead(nn.Module):
    def __init__(self, in_dim=128, out_dim=1024, hidden=512, bottleneck=128):
        super().__init__()
        self.mlp = mlp([in_dim, hidden, hidden, bottleneck], batch_norm=False)
        self.last = nn.Linear(bottleneck, out_dim, bias=False)

    def forward(self, x):
        return F.linear(F.normalize(self.mlp(x), dim=1), F.normalize(self.last.weight, dim=1))


def frozen_copy(module, twin):
    twin.load_state_dict(module.state_dict())
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


@torch.no_grad()
def ema_update_(target, online, m):
    # src/ssl/momentum.ts: lerp the parameters, copy the buffers (BN statistics).
    for t, o in zip(target.parameters(), online.parameters()):
        t.lerp_(o, 1 - m)
    for t, o in zip(target.buffers(), online.buffers()):
        t.copy_(o)


def cosine_momentum(step, total, base):
    t = min(1.0, max(0.0, step / max(1, total)))
    return 1 - (1 - base) * (math.cos(math.pi * t) + 1) / 2


# ---- views: the batched ops of src/ssl/transforms, per image parameters drawn here ----

def crop_boxes(b, h, w, scale, ratio=(3 / 4, 4 / 3), gen=None):
    # torchvision's get_params (10 tries, then a centre crop), vectorised over the batch.
    area = h * w
    tries = 10
    target = area * (scale[0] + (scale[1] - scale[0]) * torch.rand(b, tries, generator=gen, dtype=torch.float64))
    aspect = torch.exp(math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(b, tries, generator=gen, dtype=torch.float64))
    cw = torch.round(torch.sqrt(target * aspect))
    ch = torch.round(torch.sqrt(target / aspect))
    ok = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((b,), -1))
    found = first >= 0
    idx = first.clamp(min=0).unsqueeze(1)
    bw = torch.where(found, cw.gather(1, idx).squeeze(1), torch.full((b,), float(w), dtype=torch.float64))
    bh = torch.where(found, ch.gather(1, idx).squeeze(1), torch.full((b,), float(h), dtype=torch.float64))
    u = torch.rand(b, 2, generator=gen, dtype=torch.float64)
    top = torch.where(found, torch.floor(u[:, 0] * (h - bh + 1)), torch.floor((h - bh) / 2))
    left = torch.where(found, torch.floor(u[:, 1] * (w - bw + 1)), torch.floor((w - bw) / 2))
    return top, left, bh, bw


def resized_crop(x, scale, size):
    # One affine_grid + grid_sample for the batch, the grid clamped to each window (as selfsup).
    b, c, h, w = x.shape
    i, j, bh, bw = crop_boxes(b, h, w, scale)
    theta = torch.zeros(b, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = bw / w
    theta[:, 0, 2] = (2 * j + bw) / w - 1
    theta[:, 1, 1] = bh / h
    theta[:, 1, 2] = (2 * i + bh) / h - 1
    low = torch.stack([(2 * j + 1) / w - 1, (2 * i + 1) / h - 1], 1).view(b, 1, 1, 2).float()
    high = torch.stack([(2 * (j + bw) - 1) / w - 1, (2 * (i + bh) - 1) / h - 1], 1).view(b, 1, 1, 2).float()
    grid = F.affine_grid(theta.float(), [b, c, size, size], align_corners=False)
    grid = torch.clamp(grid, low, high)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def flip(x, p=0.5):
    # index_copy_ of the chosen images, flipped, into a copy (src/data/augment.ts flipBatch).
    idx = (torch.rand(x.shape[0]) < p).nonzero().squeeze(1)
    y = x.clone()
    if idx.numel():
        y.index_copy_(0, idx, y.index_select(0, idx).flip(3))
    return y


def jitter(x, brightness, contrast, p=0.8):
    # Grey images: brightness then contrast (blend with the image mean), per-image factors, p 0.8.
    b = x.shape[0]
    apply = torch.rand(b) < p
    fb = torch.where(apply, 1 - brightness + 2 * brightness * torch.rand(b), torch.ones(b)).view(b, 1, 1, 1)
    fc = torch.where(apply, 1 - contrast + 2 * contrast * torch.rand(b), torch.ones(b)).view(b, 1, 1, 1)
    y = (x * fb).clamp_(0, 1)
    return (fc * y + (1 - fc) * y.mean([1, 2, 3], keepdim=True)).clamp_(0, 1)


def gaussian_taps(sigma, size):
    half = (size - 1) / 2
    taps = torch.exp(-0.5 * ((torch.arange(size, dtype=torch.float64) - half).view(1, -1) / sigma.view(-1, 1)) ** 2)
    return taps / taps.sum(1, keepdim=True)


def blur(x, p, sigma=(0.1, 2.0), size=3):
    # One separable depthwise conv for the batch (groups = B * C), reflect padding; delta kernel for images left alone.
    b, c, h, w = x.shape
    chosen = torch.rand(b) < p
    if not bool(chosen.any()):
        return x.clone()
    s = sigma[0] + (sigma[1] - sigma[0]) * torch.rand(b, dtype=torch.float64)
    taps = gaussian_taps(s, size)
    delta = torch.zeros(size, dtype=torch.float64)
    delta[(size - 1) // 2] = 1
    taps = torch.where(chosen.view(b, 1), taps, delta).float().repeat_interleave(c, 0)
    pad = (size - 1) // 2
    planes = F.pad(x.reshape(1, b * c, h, w), [pad] * 4, mode='reflect')
    rows = F.conv2d(planes, taps.view(b * c, 1, 1, size), groups=b * c)
    both = F.conv2d(rows, taps.view(b * c, 1, size, 1), groups=b * c)
    return both.reshape(b, c, h, w)


def solarize(x, p, threshold=0.5):
    chosen = torch.rand(x.shape[0]) < p
    if not bool(chosen.any()):
        return x.clone()
    invert = (x >= threshold) & chosen.view(-1, 1, 1, 1)
    return torch.where(invert, 1 - x, x)


def view(x, scale, jitter_strengths, blur_p, solarize_p, norm=(MEAN, STD)):
    # presets.ts buildView order: crop, flip, jitter, (greyscale: none for grey), blur, solarize, normalise.
    y = resized_crop(x, scale, x.shape[2])
    y = flip(y)
    y = jitter(y, *jitter_strengths)
    if blur_p > 0:
        y = blur(y, blur_p)
    if solarize_p > 0:
        y = solarize(y, solarize_p)
    return (y - norm[0]) / norm[1]


def simclr_views(x, min_scale=0.2, blur_p=0.0, jitter_strength=0.5, norm=(MEAN, STD)):
    # simclrViews with SIMCLR_DEFAULTS: jitter 0.8 * strength (0.4), blurP 0, two identical recipes.
    s = 0.8 * jitter_strength
    return [view(x, (min_scale, 1.0), (s, s), blur_p, 0.0, norm) for _ in range(2)]


def byol_views(x, scale=(0.2, 1.0), norm=(MEAN, STD)):
    # byolViews (DINO's global views too, on scale 0.4-1): blur 1 / 0.1, solarize 0 / 0.2.
    return [view(x, scale, (0.4, 0.4), 1.0, 0.0, norm), view(x, scale, (0.4, 0.4), 0.1, 0.2, norm)]


# ---- losses: src/ssl/losses ----

def nt_xent(z0, z1, t):
    n = z0.shape[0]
    z = F.normalize(torch.cat([z0, z1]), dim=1)
    logits = (z @ z.T / t).masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
    return F.cross_entropy(logits, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))


def info_nce(q, k, queue, t):
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ F.normalize(queue, dim=1).T], 1) / t
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def neg_cos(p, z):
    return -F.cosine_similarity(p, z, dim=1).mean()


def barlow(z0, z1, lam=5e-3, eps=1e-5):
    n, d = z0.shape
    std = lambda z: (z - z.mean(0, keepdim=True)) / (z.var(0, unbiased=False, keepdim=True) + eps).sqrt()
    c = std(z0).T @ std(z1) / n
    return (torch.diagonal(c) - 1).square().sum() + lam * c.masked_fill(torch.eye(d, dtype=torch.bool), 0).square().sum()


def vicreg(z0, z1, wi=25, wv=25, wc=1, eps=1e-4):
    n, d = z0.shape
    diag = torch.eye(d, dtype=torch.bool)
    hinge = lambda z: F.relu(1 - (z.var(0) + eps).sqrt()).mean()

    def cov(z):
        c = z - z.mean(0, keepdim=True)
        return (c.T @ c / (n - 1)).masked_fill(diag, 0).square().sum() / d
    return wi * F.mse_loss(z0, z1) + wv * (hinge(z0) + hinge(z1)) + wc * (cov(z0) + cov(z1))


def spread(h):
    # The collapse monitor every selfsup joint-embedding step computes (embedding_std).
    with torch.no_grad():
        return F.normalize(h, dim=1).std(0).mean()



# ---- the small ViT and MAE (src/models/vit.ts, src/ssl/methods/mae.ts, src/ssl/losses/mae.ts) ----

def xavier_linear_(lin):
    nn.init.xavier_uniform_(lin.weight)
    if lin.bias is not None:
        nn.init.zeros_(lin.bias)


def vit_layer(width, heads, mlp_ratio=4):
    # vitLayer: pre-norm, GELU, no dropout, LayerNorm eps 1e-6; Xavier-uniform linear weights, zero biases (as MAE's ViT).
    layer = nn.TransformerEncoderLayer(width, heads, round(mlp_ratio * width), dropout=0.0, activation='gelu',
                                       layer_norm_eps=1e-6, batch_first=True, norm_first=True)
    for lin in (layer.linear1, layer.linear2, layer.self_attn.out_proj):
        xavier_linear_(lin)
    return layer


class VitTiny(nn.Module):
    # vit-tiny at 28x28 grey: patch 4 (7x7 patches), width 128, 6 layers, 4 heads, class token, learned positions.
    def __init__(self, in_channels=1, size=28, patch=4, width=128, depth=6, heads=4):
        super().__init__()
        self.patch, self.width, self.num_patches = patch, width, (size // patch) ** 2
        self.proj = nn.Conv2d(in_channels, width, patch, stride=patch)
        nn.init.xavier_uniform_(self.proj.weight.data.view(width, -1))
        nn.init.zeros_(self.proj.bias)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width).normal_(0, 0.02))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, width).normal_(0, 0.02))
        self.layers = nn.ModuleList(vit_layer(width, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(width, eps=1e-6)

    def encode_visible(self, x, keep):
        # VisionTransformer.encodeVisible: the class token and the kept patches' tokens through every layer.
        n = x.shape[0]
        patches = self.proj(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        visible = patches.gather(1, keep.unsqueeze(2).expand(n, keep.shape[1], self.width))
        h = torch.cat([(self.cls_token + self.pos_embed[:, :1]).expand(n, 1, self.width), visible], 1)
        for layer in self.layers:
            h = layer(h)
        return self.norm(h)


def patchify(x, p):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1).reshape(n, (h // p) * (w // p), p * p * c)


def mae_loss(pred, target, mask, eps=1e-6):
    mean, var = target.mean(-1, keepdim=True), target.var(-1, unbiased=True, keepdim=True)
    t = (target - mean) / (var + eps).sqrt()
    return ((pred - t) ** 2).mean(-1).mul(mask).sum() / mask.sum().clamp(min=1)


class MaeDecoder(nn.Module):
    # MAE_DEFAULTS: 2 layers 64 wide, 4 heads, a mask token, its own positions, a per-patch pixel head.
    def __init__(self, enc, width=64, depth=2, heads=4):
        super().__init__()
        self.width = width
        self.decoder_embed = nn.Linear(enc.width, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width).normal_(0, 0.02))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, 1 + enc.num_patches, width).normal_(0, 0.02))
        self.layers = nn.ModuleList(vit_layer(width, heads) for _ in range(depth))
        self.decoder_norm = nn.LayerNorm(width, eps=1e-6)
        self.decoder_pred = nn.Linear(width, enc.patch * enc.patch)
        xavier_linear_(self.decoder_embed)
        xavier_linear_(self.decoder_pred)

    def forward(self, latent, restore, keep_count, num_patches):
        n, d = latent.shape[0], self.width
        latent = self.decoder_embed(latent)
        tokens = torch.cat([latent[:, 1:1 + keep_count], self.mask_token.expand(n, num_patches - keep_count, d)], 1)
        tokens = tokens.gather(1, restore.unsqueeze(2).expand(n, num_patches, d))
        h = torch.cat([latent[:, :1], tokens], 1) + self.decoder_pos_embed
        for layer in self.layers:
            h = layer(h)
        return self.decoder_pred(self.decoder_norm(h))[:, 1:]


def mae_step_loss(enc, dec, x, ratio=0.75):
    # A random 75% of each image's patches hidden (MAE's argsort of noise; selfsup shuffles per image in JS).
    n, L = x.shape[0], enc.num_patches
    keep_count = max(1, int(L * (1 - ratio)))
    order = torch.rand(n, L).argsort(1)
    restore = order.argsort(1)
    keep = order[:, :keep_count]
    mask = torch.ones(n, L)
    mask[:, :keep_count] = 0
    mask = mask.gather(1, restore)
    pred = dec(enc.encode_visible(x, keep), restore, keep_count, L)
    return mae_loss(pred, patchify(x, enc.patch), mask)

# ---- the methods ----

def through(module, xs):
    # One pass for same-sized inputs (one BatchNorm batch), split back, as JointEmbedding does.
    return module(torch.cat(xs)).chunk(len(xs))


class Method:
    def __init__(self, name, norm=(MEAN, STD)):
        self.name = name
        self.norm = norm
        self.enc = small_cnn()
        self.modules = {'enc': self.enc}
        self.t_total = 1
        if name == 'rotation':
            self.head = nn.Linear(128, 4)
            self.modules['head'] = self.head
        elif name == 'simclr':
            self.proj = mlp([128, 512, 128])
        elif name == 'moco':
            self.proj = mlp([128, 512, 128], batch_norm=False)
            self.key_enc, self.key_proj = frozen_copy(self.enc, small_cnn()), frozen_copy(self.proj, mlp([128, 512, 128], batch_norm=False))
            self.queue = F.normalize(torch.randn(4096, 128), dim=1)
            self.head_pos = 0
            self.pending = None
        elif name == 'byol':
            self.proj, self.pred = mlp([128, 1024, 128]), mlp([128, 1024, 128])
            self.tgt_enc, self.tgt_proj = frozen_copy(self.enc, small_cnn()), frozen_copy(self.proj, mlp([128, 1024, 128]))
        elif name == 'simsiam':
            self.proj, self.pred = mlp([128, 512, 512, 512], last_batch_norm=True), mlp([512, 128, 512])
        elif name in ('barlow-twins', 'vicreg'):
            self.proj = mlp([128, 1024, 1024, 1024])
        elif name == 'mae':
            self.enc = VitTiny()
            self.modules = {'enc': self.enc}
            self.decoder = MaeDecoder(self.enc)
            self.modules['decoder'] = self.decoder
        elif name == 'dino':
            self.head = DinoHead()
            self.t_enc, self.t_head = frozen_copy(self.enc, small_cnn()), frozen_copy(self.head, DinoHead())
            self.center = torch.zeros(1, 1024)
        else:
            raise SystemExit(f'methods_step.py: no PyTorch version of {name!r}')
        for k in ('proj', 'pred', 'head'):
            if hasattr(self, k):
                self.modules[k] = getattr(self, k)
        for k in ('key_enc', 'key_proj', 'tgt_enc', 'tgt_proj', 't_enc', 't_head'):
            if hasattr(self, k):
                getattr(self, k).train()  # selfsup's frozen copies stay in training mode (batch statistics)

    def parameters(self):
        return [p for m in self.modules.values() for p in m.parameters()]

    def optimizer(self):
        if self.name == 'rotation':  # ROTATION_DEFAULTS, as bench/rotnet_step.py
            return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
        if self.name == 'mae':  # MAE_PRETRAIN_DEFAULTS and MaskedAutoencoder.makeOptimizer's groups
            named = [(f'{k}.{n}', p) for k, m in self.modules.items() for n, p in m.named_parameters()]
            no_decay = lambda n, p: p.ndim <= 1 or n.split('.')[-1] in ('cls_token', 'pos_embed', 'mask_token', 'decoder_pos_embed')
            return torch.optim.AdamW([dict(params=[p for n, p in named if not no_decay(n, p)], weight_decay=0.05),
                                      dict(params=[p for n, p in named if no_decay(n, p)], weight_decay=0.0)], lr=1.5e-3, betas=(0.9, 0.95))
        return torch.optim.Adam(self.parameters(), **ADAM)

    def views(self, x):
        n = self.name
        if n == 'rotation':
            return [torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])]
        if n == 'mae':  # the loader crops, flips and normalises; the masking is part of the forward pass
            return [x]
        if n == 'byol':
            return byol_views(x, (0.2, 1.0), self.norm)
        if n == 'dino':
            return byol_views(x, (0.4, 1.0), self.norm)
        return simclr_views(x, norm=self.norm)

    def loss(self, v, step):
        n = self.name
        if n == 'rotation':
            y = torch.arange(4).repeat_interleave(v[0].shape[0] // 4)
            return F.cross_entropy(self.head(self.enc(v[0])), y)
        if n == 'mae':
            return mae_step_loss(self.enc, self.decoder, v[0])
        if n == 'moco':
            h0 = self.enc(v[0])
            q = self.proj(h0)
            with torch.no_grad():
                k = F.normalize(self.key_proj(self.key_enc(v[1])), dim=1)
            self.pending = k
            spread(h0)
            return info_nce(q, k, self.queue, 0.2)
        h0, h1 = through(self.enc, v)
        spread(h0)
        if n == 'simclr':
            return nt_xent(*through(self.proj, [h0, h1]), 0.2)
        if n in ('barlow-twins', 'vicreg'):
            z0, z1 = through(self.proj, [h0, h1])
            return barlow(z0, z1) if n == 'barlow-twins' else vicreg(z0, z1)
        if n == 'simsiam':
            z0, z1 = through(self.proj, [h0, h1])
            p0, p1 = through(self.pred, [z0, z1])
            return 0.5 * (neg_cos(p0, z1.detach()) + neg_cos(p1, z0.detach()))
        if n == 'byol':
            p0, p1 = through(self.pred, through(self.proj, [h0, h1]))
            with torch.no_grad():
                t0, t1 = through(self.tgt_proj, through(self.tgt_enc, v))
            return 0.5 * (neg_cos(p0, t1) + neg_cos(p1, t0))
        if n == 'dino':
            s = through(self.head, [h0, h1])
            with torch.no_grad():
                t = through(self.t_head, through(self.t_enc, v))
                probs = [((ti - self.center) / 0.04).softmax(1) for ti in t]
            logp = [(si / 0.1).log_softmax(1) for si in s]
            loss = sum(-(probs[i] * logp[j]).sum(1).mean() for i in range(2) for j in range(2) if i != j) / 2
            with torch.no_grad():  # the centre moves inside the step, as DinoLoss.updateCenter
                self.center.mul_(0.9).add_(torch.cat(t).mean(0, keepdim=True), alpha=0.1)
            return loss
        raise AssertionError(n)

    @torch.no_grad()
    def after_step(self, step):
        n = self.name
        if n == 'moco':
            ema_update_(self.key_enc, self.enc, 0.99)
            ema_update_(self.key_proj, self.proj, 0.99)
            k, size = self.pending, self.queue.shape[0]
            self.pending = None
            start, left = 0, min(k.shape[0], size)
            while left > 0:
                m = min(left, size - self.head_pos)
                self.queue[self.head_pos:self.head_pos + m].copy_(k[start:start + m])
                self.head_pos, start, left = (self.head_pos + m) % size, start + m, left - m
        elif n == 'byol':
            m = cosine_momentum(step + 1, self.t_total, 0.99)
            ema_update_(self.tgt_enc, self.enc, m)
            ema_update_(self.tgt_proj, self.proj, m)
        elif n == 'dino':
            m = cosine_momentum(step + 1, self.t_total, 0.996)
            ema_update_(self.t_enc, self.enc, m)
            ema_update_(self.t_head, self.head, m)
