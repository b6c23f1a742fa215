#!/usr/bin/python3
"""Load a selfsup encoder in PyTorch: the backbone (small-cnn, nin, resnet18, vit-tiny) rebuilt as torch.nn modules with
selfsup's parameter names, its weights read from DIR/encoder.safetensors (by hand:
struct + json, so the `safetensors` package is not needed), the same embeddings.

  from selfsup_encoder import load_encoder
  model, info = load_encoder('runs/pretrain')        # eval mode
  emb = model.embed(images)                          # float [N, C, H, W] in [0, 1] -> [N, D]

  python3 scripts/selfsup_encoder.py DIR [--block NAME] [--fashion-mnist-test N] [--out FILE.npy]
      embeds the first N Fashion-MNIST test images and prints a JSON summary
      (--json-rows prints the rows themselves, for selfsup's own interop test)
"""
import argparse
import gzip
import json
import os
import struct
import sys

import torch
from torch import nn

DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
          'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
          'U8': torch.uint8, 'BOOL': torch.bool}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    header.pop('__metadata__', None)
    base = 8 + n
    out = {}
    for name, h in header.items():
        start, end = h['data_offsets']
        buf = bytearray(data[base + start:base + end])
        t = torch.frombuffer(buf, dtype=DTYPES[h['dtype']]) if end > start else torch.empty(0, dtype=DTYPES[h['dtype']])
        out[name] = t.reshape(h['shape']).clone()
    return out


def conv_bn_relu(cin, cout, k):
    return [nn.Conv2d(cin, cout, k, padding=(k - 1) // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class Backbone(nn.Module):
    """Named blocks as in selfsup; features(x, block) pools the block's map globally."""

    def __init__(self):
        super().__init__()
        self.block_names = []

    def add_block(self, name, module):
        self.add_module(name, module)
        self.block_names.append(name)

    def features(self, x, block=None):
        last = self.block_names.index(block) if block else len(self.block_names) - 1
        for name in self.block_names[:last + 1]:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.features(x)


class SmallCnn(Backbone):
    def __init__(self, in_channels=1, width=32):
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        self.add_block('block1', nn.Sequential(*conv_bn_relu(in_channels, w1, 3), *conv_bn_relu(w1, w1, 3), nn.MaxPool2d(2)))
        self.add_block('block2', nn.Sequential(*conv_bn_relu(w1, w2, 3), *conv_bn_relu(w2, w2, 3), nn.MaxPool2d(2)))
        self.add_block('block3', nn.Sequential(*conv_bn_relu(w2, w3, 3)))


class NetworkInNetwork(Backbone):
    def __init__(self, in_channels=3, width=192, blocks=4):
        super().__init__()
        w = width
        w1b, w1c = round(w * 160 / 192), round(w * 96 / 192)
        self.add_block('block1', nn.Sequential(*conv_bn_relu(in_channels, w, 5), *conv_bn_relu(w, w1b, 1), *conv_bn_relu(w1b, w1c, 1), nn.MaxPool2d(3, 2, 1)))
        self.add_block('block2', nn.Sequential(*conv_bn_relu(w1c, w, 5), *conv_bn_relu(w, w, 1), *conv_bn_relu(w, w, 1), nn.AvgPool2d(3, 2, 1)))
        for b in range(3, blocks + 1):
            self.add_block(f'block{b}', nn.Sequential(*conv_bn_relu(w, w, 3), *conv_bn_relu(w, w, 1), *conv_bn_relu(w, w, 1)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        h = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(h + self.shortcut(x))


class ResNet18(Backbone):
    def __init__(self, in_channels=3, width=64):
        super().__init__()
        w = width
        self.add_block('stem', nn.Sequential(nn.Conv2d(in_channels, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()))
        cin = w
        for i, cout in enumerate([w, 2 * w, 4 * w, 8 * w]):
            stride = 1 if i == 0 else 2
            self.add_block(f'block{i + 1}', nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout


class PatchEmbedding(nn.Module):
    def __init__(self, in_channels, image_size, patch, width):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, width, patch, stride=patch)
        n = (image_size[0] // patch) * (image_size[1] // patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + n, width))

    def forward(self, x):
        t = self.proj(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        return torch.cat([cls, t], 1)


class VisionTransformer(Backbone):
    """vit-tiny: blocks 'stem', 'block1'..; features = mean of the patch tokens (after the final LayerNorm at the last block)."""

    def __init__(self, in_channels=3, width=128, image_size=(32, 32), patch=4, depth=6, heads=4, mlp_ratio=4):
        super().__init__()
        self.add_block('stem', PatchEmbedding(in_channels, image_size, patch, width))
        for i in range(depth):
            self.add_block(f'block{i + 1}', nn.TransformerEncoderLayer(width, heads, round(mlp_ratio * width), dropout=0.0, activation='gelu',
                                                                       layer_norm_eps=1e-6, batch_first=True, norm_first=True))
        self.norm = nn.LayerNorm(width, eps=1e-6)

    def features(self, x, block=None):
        last = self.block_names.index(block) if block else len(self.block_names) - 1
        for name in self.block_names[:last + 1]:
            x = getattr(self, name)(x)
        if last == len(self.block_names) - 1:
            x = self.norm(x)
        return x[:, 1:].mean(1)


BACKBONES = {'small-cnn': SmallCnn, 'nin': NetworkInNetwork, 'resnet18': ResNet18, 'vit-tiny': VisionTransformer}


class Encoder(nn.Module):
    """A backbone with its input normalisation: embed() takes images in [0, 1]."""

    def __init__(self, backbone, info):
        super().__init__()
        self.backbone = backbone
        self.info = info
        c = info['inChannels']
        self.register_buffer('mean', torch.tensor(info['norm']['mean'], dtype=torch.float32).view(1, c, 1, 1))
        self.register_buffer('std', torch.tensor(info['norm']['std'], dtype=torch.float32).view(1, c, 1, 1))

    @torch.no_grad()
    def embed(self, images, block=None):
        return self.backbone.features((images - self.mean) / self.std, block)

    def forward(self, images):
        return self.embed(images)


def load_encoder(path):
    """(Encoder in eval mode, the encoder.json dict) from a directory written by selfsup."""
    json_path = os.path.join(path, 'encoder.json') if os.path.isdir(path) else path
    with open(json_path) as f:
        info = json.load(f)
    if info.get('format') != 'selfsup.encoder':
        raise ValueError(f'{json_path} does not describe a selfsup encoder')
    name = info['backbone']
    if name not in BACKBONES:
        raise ValueError(f"backbone {name!r} has no PyTorch twin here; known: {', '.join(BACKBONES)}")
    kwargs = {'in_channels': info['inChannels']}
    if info.get('width') is not None:
        kwargs['width'] = info['width']
    if name == 'vit-tiny':
        kwargs['image_size'] = tuple(info['imageShape'][1:])
    backbone = BACKBONES[name](**kwargs)
    state = read_safetensors(os.path.join(os.path.dirname(json_path), info['weights']))
    backbone.load_state_dict(state, strict=True)
    model = Encoder(backbone, info).eval()
    return model, info


def fashion_mnist_test(n, root='/usr/share/datasets/fashion-mnist'):
    path = os.path.join(root, 't10k-images-idx3-ubyte.gz')
    with gzip.open(path, 'rb') as f:
        data = f.read()
    _, count, h, w = struct.unpack('>IIII', data[:16])
    n = min(n, count)
    pixels = torch.frombuffer(bytearray(data[16:16 + n * h * w]), dtype=torch.uint8)
    return pixels.reshape(n, 1, h, w).float() / 255


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('encoder')
    p.add_argument('--block')
    p.add_argument('--fashion-mnist-test', type=int, default=16)
    p.add_argument('--out', help='write the rows as .npy')
    p.add_argument('--json-rows', action='store_true', help='print the rows as JSON')
    a = p.parse_args()
    torch.set_num_threads(1)
    model, info = load_encoder(a.encoder)
    x = fashion_mnist_test(a.fashion_mnist_test)
    emb = model.embed(x, a.block)
    if a.out:
        import numpy as np
        np.save(a.out, emb.numpy())
    summary = {'backbone': info['backbone'], 'rows': emb.shape[0], 'dim': emb.shape[1], 'sum': float(emb.sum())}
    if a.json_rows:
        summary['embeddings'] = emb.tolist()
    json.dump(summary, sys.stdout)
    print()


if __name__ == '__main__':
    main()
