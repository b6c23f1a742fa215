// `node dist/bench/ddp-scaling.js`: the paper model of data-parallel cost at scale.
// Counts the parameters each backbone (and the RotNet and SimCLR models around it)
// all-reduces per step, and the time a ring all-reduce of those float32 gradients
// takes, 2 (N - 1) / N x bytes / bandwidth, at 10 and 100 Gb/s for N = 2, 8, 64
// processes (latency and compute overlap left out). Prints a table, then one JSON line.
import { createBackbone, BACKBONES } from '../src/models/index.js';
import { createMethod } from '../src/ssl/registry.js';

const RANKS = [2, 8, 64];
const GBPS = [10, 100];
const ringMs = (bytes: number, n: number, gbps: number): number => ((2 * (n - 1)) / n) * bytes * 8 / (gbps * 1e9) * 1000;
const trainable = (m: { parameters(): { requiresGrad: boolean; numel: number }[] }): number => m.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.numel, 0);

const rows: Record<string, unknown>[] = [];
for (const name of BACKBONES.filter((b) => b !== 'nin')) {
  for (const method of ['rotation', 'simclr']) {
    const encoder = createBackbone(name, { inChannels: 1, imageSize: [28, 28] });
    const model = createMethod(method, encoder, { imageShape: [1, 28, 28], norm: { mean: [0.286], std: [0.353] } });
    const params = trainable(model);
    const bytes = 4 * params;
    const times = Object.fromEntries(GBPS.flatMap((g) => RANKS.map((n) => [`ms_${g}gbps_${n}ranks`, ringMs(bytes, n, g)])));
    rows.push({ backbone: name, method, encoder_params: trainable(encoder), params, grad_bytes: bytes, ...times });
    console.log(`${name.padEnd(9)} ${method.padEnd(8)} ${String(params).padStart(9)} params ${(bytes / 1e6).toFixed(2).padStart(6)} MB/step; ring all-reduce ` +
      GBPS.map((g) => `${g} Gb/s: ${RANKS.map((n) => `${ringMs(bytes, n, g).toFixed(2)} ms (N=${n})`).join(', ')}`).join('; '));
    model.dispose();
  }
}
console.log(JSON.stringify({ bench: 'ddp-scaling', rows }));
