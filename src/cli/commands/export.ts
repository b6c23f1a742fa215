// selfsup export: an encoder written by pretrain (or experiment/demo) as an ONNX file
// that onnxruntime (Node, Python, the browser) runs: float32 [N, C, H, W] images in
// [0, 1], normalised inside the graph, to the [N, D] embedding of one block. With
// --format web, a static folder that runs it in the browser against a gallery.
import { statSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportOnnx, exportWeb, readModelInfo } from '../../io/index.js';
import { embedSource } from '../../eval/embed.js';
import { loadEncoder } from '../../io/encoder-files.js';
import { UsageError } from '../errors.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock } from '../settings.js';
import { selfsupVersion } from '../../version.js';
import { openSource, limitSource } from './embed.js';

export const EXPORT_FORMATS = ['onnx', 'web'] as const;

export async function run(args: Args, out: Output): Promise<void> {
  const format = args.choice('format', EXPORT_FORMATS)!;
  const encoderPath = args.required('encoder', "(a directory written by 'selfsup pretrain --out DIR')");
  const path = resolve(args.required('out', format === 'web' ? '(the folder to write)' : '(the .onnx file to write)'));
  if (format === 'onnx' && statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--out ${path} is a directory; give the file to write, e.g. ${path}/encoder.onnx`);
  const { encoder, info, dir } = loadEncoder(encoderPath);
  try {
    const block = featureBlock(args, info.blocks, undefined);
    encoder.eval();
    const onnx = {
      imageShape: info.imageShape, norm: info.norm, block, method: info.method, version: selfsupVersion(),
      metadata: { 'selfsup.data': info.data },
    };
    const [c, h, w] = info.imageShape;
    if (format === 'onnx') {
      const bytes = exportOnnx(encoder, path, onnx);
      const model = readModelInfo(readFileSync(path));
      out.say(`wrote ${path} (${(bytes / 1024).toFixed(0)} KiB, ONNX opset ${model.opset}, ${model.nodes.length} nodes): ` +
        `input '${model.inputs[0]}' float32 [N, ${c}, ${h}, ${w}] in [0, 1] -> output '${model.outputs[0]}' [N, ${model.metadata['selfsup.embed_dim']}] (${block} of ${info.backbone}, ${info.method} on ${info.data})`);
      out.result({ command: 'export', format, path, bytes, encoder: dir, block, input: model.inputs[0], output: model.outputs[0], opset: model.opset, metadata: model.metadata });
      return;
    }
    // The gallery: the first --gallery-limit images of --gallery, embedded here by selfsup.
    const galleryLimit = args.int('gallery-limit', { min: 1 })!;
    const spec = args.string('gallery') ?? info.data;
    const source = limitSource(await openSource(args, c === 1 ? 1 : 3, { data: spec, split: args.string('split') ?? 'test', imageSize: args.int('image-size', { min: 1 }) }), galleryLimit);
    if (source.imageShape.join('x') !== info.imageShape.join('x')) {
      throw new Error(`the gallery's images are ${source.imageShape.join('x')} but the encoder takes ${info.imageShape.join('x')}; resize a folder with --image-size ${w}`);
    }
    const pixels: Uint8Array[] = [];
    const per = c * h * w;
    for await (const b of source.batches(512)) for (let i = 0; i < b.count; i++) pixels.push(b.images.slice(i * per, (i + 1) * per));
    const parts: Float32Array[] = [];
    for await (const r of embedSource(encoder, source, { norm: info.norm, block })) parts.push(r);
    const embeddings = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) { embeddings.set(p, o); o += p.length; }
    const captions = Array.from({ length: source.length }, (_, i) => {
      const l = source.labels?.[i];
      const name = l !== undefined && l >= 0 ? (source.classNames?.[l] ?? String(l)) : '';
      return `${source.paths ? source.paths[i]!.split('/').pop() : `#${i}`}${name ? ` ${name}` : ''}`;
    });
    const r = exportWeb(encoder, path, {
      ...onnx, gallery: { pixels, captions, embeddings }, count: args.int('count', { min: 1 })!,
      about: `${info.method} encoder (${info.backbone}, ${block}) from ${dir}; gallery: ${source.length} images of ${source.name}; everything runs in this page`,
    });
    out.say(`wrote ${path} (${(r.bytes / 2 ** 20).toFixed(1)} MiB: the model, onnxruntime-web and a gallery of ${source.length} images); open ${join(path, 'index.html')} in a browser (file:// works) and drop an image on it`);
    out.result({ command: 'export', format, path, bytes: r.bytes, files: r.files, encoder: dir, block, galleryImages: source.length });
  } finally {
    encoder.dispose();
  }
}
