// selfsup predict: a model written by `finetune --out` labels image files or a data
// set: each image's top classes with their probabilities (and the accuracy where the
// data has labels).
import { readImage, type ImageSource } from '../../data/index.js';
import { classify } from '../../eval/classify.js';
import { loadClassifier } from '../../io/classifier-files.js';
import { UsageError } from '../errors.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { deviceOption } from '../device.js';
import { openSource } from './embed.js';

export async function run(args: Args, out: Output): Promise<void> {
  const top = args.int('top', { min: 1 })!;
  const files = args.positionals;
  const dataSpec = args.string('data');
  if (files.length === 0 && !dataSpec) throw new UsageError('give image files to label, or --data SPEC');
  if (files.length && dataSpec) throw new UsageError('give image files or --data, not both');
  const device = deviceOption(args);
  const { model, info, dir } = loadClassifier(args.required('model', "(a directory written by 'selfsup finetune --out DIR')"));
  try {
    if (device !== 'cpu') model.to(device);
    const [c, h, w] = info.imageShape;
    let source: ImageSource;
    if (files.length) {
      // Files: each resized to the model's input size and converted to its channels.
      const decoded: Uint8Array[] = [];
      for (const f of files) {
        const img = await readImage(f, { size: h === w ? h : undefined, channels: c === 1 ? 1 : 3 });
        if (img.imageShape[1] !== h || img.imageShape[2] !== w) throw new Error(`${f}: ${img.imageShape[2]}x${img.imageShape[1]}, the model takes ${w}x${h}`);
        decoded.push(img.pixels);
      }
      const per = c * h * w;
      source = {
        name: 'files', length: files.length, imageShape: info.imageShape, classNames: null, labels: null, paths: files,
        async *batches(batchSize: number) {
          for (let start = 0; start < decoded.length; start += batchSize) {
            const part = decoded.slice(start, start + batchSize);
            const images = new Uint8Array(part.length * per);
            part.forEach((p, i) => images.set(p, i * per));
            yield { start, count: part.length, images };
          }
        },
      };
    } else {
      source = await openSource(args, c === 1 ? 1 : 3, { data: dataSpec, split: args.string('split')! });
      if (source.imageShape.join('x') !== info.imageShape.join('x')) {
        throw new Error(`the images are ${source.imageShape.join('x')} but the model takes ${info.imageShape.join('x')}${source.paths ? `; resize them with --image-size ${w}` : ''}`);
      }
    }
    out.note(`model: ${info.backbone} (${info.head} head, ${info.classNames.length} classes) from ${dir}, fine-tuned from ${info.trainedFrom} on ${info.data}`);
    const predictions = await classify(model, source, { norm: info.norm, top });
    const name = (l: number): string => info.classNames[l] ?? String(l);
    const rows = predictions.map((p, i) => ({
      image: source.paths?.[i] ?? `#${i}`,
      label: source.labels && source.labels[i]! >= 0 ? (source.classNames?.[source.labels[i]!] ?? source.labels[i]) : null,
      top: p.classes.map((cl, j) => ({ class: name(cl), index: cl, probability: p.probabilities[j]! })),
    }));
    const shown = rows.length > 50 && !files.length ? rows.slice(0, 20) : rows;
    for (const r of shown) out.say(`${r.image}${r.label !== null ? ` (${r.label})` : ''}: ${r.top.map((t) => `${t.class} ${(100 * t.probability).toFixed(1)}%`).join(', ')}`);
    if (shown.length < rows.length) out.say(`... ${rows.length - shown.length} more (--json has them all)`);
    let accuracy: number | null = null;
    if (source.labels) {
      // Compare by class name, so a data set whose classes are ordered differently still scores right.
      const names = source.classNames ?? info.classNames;
      let right = 0;
      predictions.forEach((p, i) => { if (name(p.classes[0]!) === names[source.labels![i]!]) right++; });
      accuracy = right / predictions.length;
      out.say(`accuracy: ${(100 * accuracy).toFixed(2)}% of ${predictions.length} labelled images`);
    }
    out.result({ command: 'predict', model: dir, classes: info.classNames, predictions: rows, accuracy });
  } finally {
    model.dispose();
  }
}
