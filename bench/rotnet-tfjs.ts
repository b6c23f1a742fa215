// The TensorFlow.js side of the RotNet step benchmark: the same model and step on
// tfjs's pure-JavaScript CPU backend (tfjs-node's native backend cannot install here).
// It is slow, so it runs a few small steps; prints one JSON line.
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '2' }, batch: { type: 'string', default: '4' } } });
const steps = Number(values.steps);
const batch = Number(values.batch);

function convBnRelu(model: tf.Sequential, filters: number, inputShape?: number[]): void {
  model.add(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, ...(inputShape ? { inputShape } : {}) }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.reLU());
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const model = tf.sequential();
  convBnRelu(model, 32, [28, 28, 1]);
  convBnRelu(model, 32);
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  convBnRelu(model, 64);
  convBnRelu(model, 64);
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  convBnRelu(model, 128);
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 4 }));
  const optimizer = tf.train.momentum(0.1, 0.9, true);

  const step = (): number => {
    const loss = tf.tidy(() => {
      const x = tf.randomUniform([batch, 28, 28, 1]);
      // four rotations of each image (NHWC: rotate in the H/W plane)
      const r1 = tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 2);
      const r2 = tf.reverse(x, [1, 2]);
      const r3 = tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 1);
      const xs = tf.concat([x, r1, r2, r3]);
      const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3].flatMap((k) => Array(batch).fill(k)), 'int32'), 4);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    });
    const v = loss.dataSync()[0]!;
    loss.dispose();
    return v;
  };

  step(); // warm-up
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < steps; i++) last = step();
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    impl: 'tfjs-cpu', tfjs: tf.version.tfjs, images_per_step: batch * 4, steps, seconds,
    img_per_s: (batch * 4 * steps) / seconds, last_loss: last, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
