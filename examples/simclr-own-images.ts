// SimCLR on your own images, then a classifier from 10 labels per class, then
// embeddings of every image. Run: node dist/examples/simclr-own-images.js DIR
// (DIR holds one sub-folder of images per class; labels are used only after pretraining).
import { data, models, ssl, train, evaluation, manualSeed } from '../src/index.js';

const dir = process.argv[2] ?? 'my-images';
const steps = Number(process.env.STEPS ?? 1000);
const images = await data.loadImageFolder(dir, { size: 32 });
const norm = data.channelStats(images);
manualSeed(0);

// 1. Self-supervised pretraining: two random views of each image, NT-Xent.
const encoder = models.createBackbone('small-cnn', { inChannels: 3 });
const simclr = ssl.createMethod('simclr', encoder, { imageShape: images.imageShape, norm }, { temperature: 0.2 });
const spec = ssl.getMethod('simclr');
await ssl.pretrain(simclr, {
  data: images, norm, epochs: 1000, maxSteps: steps, seed: 0,
  batchSize: Math.min(spec.defaults.batchSize, images.length), optimizer: spec.defaults.optimizer,
  checkpoint: 'runs/simclr/pretrain', // Ctrl-C saves here; add resume: true to continue
});
const trained = simclr.takeEncoder();

// 2. A classifier on 10 labelled images per class, block1 frozen.
const classes = images.classNames!.length;
const labelled = data.kPerClass(images.labels!, 10, 0, classes);
const classifier = new models.Classifier(trained, models.linearHead(trained.embedDim, classes)).freeze('encoder.block1');
await train.trainSupervised({
  name: 'finetune', model: classifier, data: images, indices: labelled, norm, batchSize: 128, steps: 150, seed: 0,
  optimizer: { kind: 'adam', lr: 1e-3 }, augment: { crop: 2, flip: true },
});
console.log(`accuracy on all images: ${(100 * evaluation.accuracy(classifier, images, { norm })).toFixed(1)}%`);

// 3. Embeddings of every image, [N, embedDim], e.g. for similarity search.
const vectors = evaluation.embed(trained, images, { norm });
console.log(`embeddings: [${vectors.shape.join(', ')}]`);
vectors.dispose();
classifier.dispose();
