// One side of bench/embed-bench.ts: embeds the first N Fashion-MNIST test images with
// the encoder in DIR, in selfsup (evaluation.embedSource) or onnxruntime-node (the
// exported ONNX file), after a warm-up batch. Prints one JSON line.
// node dist/bench/embed-child.js --impl selfsup|onnxruntime --encoder DIR --images N --batch B --threads T
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { setNumThreads } from '../src/tensor/index.js';
import { loadFashionMnist, subset, datasetSource } from '../src/data/index.js';
import { embedSource } from '../src/eval/embed.js';
import { loadEncoder } from '../src/io/encoder-files.js';

const { values } = parseArgs({ options: {
  impl: { type: 'string' }, encoder: { type: 'string' }, images: { type: 'string', default: '5000' }, batch: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' },
} });
const n = Number(values.images);
const batch = Number(values.batch);
const threads = Number(values.threads);
const ds = subset(loadFashionMnist({ split: 'test' }), Int32Array.from({ length: n }, (_, i) => i));
let sum = 0;
let seconds = 0;
if (values.impl === 'selfsup') {
  setNumThreads(threads);
  const { encoder, info } = loadEncoder(values.encoder!);
  const run = async (source = datasetSource(ds)): Promise<number> => {
    const t = performance.now();
    for await (const rows of embedSource(encoder, source, { norm: info.norm, batchSize: batch })) sum += rows[0]!;
    return (performance.now() - t) / 1000;
  };
  await run(datasetSource(subset(ds, Int32Array.from({ length: batch }, (_, i) => i))));
  sum = 0;
  seconds = await run();
} else {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(join(values.encoder!, 'encoder.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const [c, h, w] = ds.imageShape;
  const per = c * h * w;
  const run = async (count: number): Promise<number> => {
    const t = performance.now();
    for (let start = 0; start < count; start += batch) {
      const m = Math.min(batch, count - start);
      // The same work as selfsup's side: bytes to floats in [0, 1]; normalisation is inside the graph.
      const x = Float32Array.from(ds.images.subarray(start * per, (start + m) * per), (v) => v / 255);
      const out = await session.run({ images: new ort.Tensor('float32', x, [m, c, h, w]) });
      sum += (out.embedding!.data as Float32Array)[0]!;
    }
    return (performance.now() - t) / 1000;
  };
  await run(batch);
  sum = 0;
  seconds = await run(n);
}
console.log(JSON.stringify({ impl: values.impl, images: n, seconds, img_per_s: n / seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024, checksum: sum }));
