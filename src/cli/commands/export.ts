// selfsup export: an encoder written by pretrain (or experiment/demo) as an ONNX file
// that onnxruntime (Node, Python, the browser) runs: float32 [N, C, H, W] images in
// [0, 1], normalised inside the graph, to the [N, D] embedding of one block.
import { statSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportOnnx, readModelInfo } from '../../io/index.js';
import { loadEncoder } from '../encoder-files.js';
import { UsageError } from '../errors.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { featureBlock } from '../settings.js';
import { selfsupVersion } from '../../version.js';

export const EXPORT_FORMATS = ['onnx'] as const;

export async function run(args: Args, out: Output): Promise<void> {
  const format = args.string('format')!;
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: unknown format '${format}'; choose ${EXPORT_FORMATS.join(' or ')}`);
  const encoderPath = args.required('encoder', "(a directory written by 'selfsup pretrain --out DIR')");
  const path = resolve(args.required('out', '(the .onnx file to write)'));
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--out ${path} is a directory; give the file to write, e.g. ${path}/encoder.onnx`);
  const { encoder, info, dir } = loadEncoder(encoderPath);
  try {
    const block = featureBlock(args, info.blocks, undefined);
    encoder.eval();
    const bytes = exportOnnx(encoder, path, {
      imageShape: info.imageShape, norm: info.norm, block, method: info.method, version: selfsupVersion(),
      metadata: { 'selfsup.data': info.data },
    });
    const model = readModelInfo(readFileSync(path));
    const [c, h, w] = info.imageShape;
    out.say(`wrote ${path} (${(bytes / 1024).toFixed(0)} KiB, ONNX opset ${model.opset}, ${model.nodes.length} nodes): ` +
      `input '${model.inputs[0]}' float32 [N, ${c}, ${h}, ${w}] in [0, 1] -> output '${model.outputs[0]}' [N, ${model.metadata['selfsup.embed_dim']}] (${block} of ${info.backbone}, ${info.method} on ${info.data})`);
    out.result({ command: 'export', format, path, bytes, encoder: dir, block, input: model.inputs[0], output: model.outputs[0], opset: model.opset, metadata: model.metadata });
  } finally {
    encoder.dispose();
  }
}
