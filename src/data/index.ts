// Image data: data sets in memory, their loaders and the batched augmentation.
export { makeDataset, subset, toTensors, gatherImages, imageSize, channelStats, type ImageDataset } from './dataset.js';
export { parseIdx, readIdxImages, readIdxLabels, loadIdxPair, findIdxFile, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type IdxArray } from './idx.js';
export { loadFashionMnist, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, type Split } from './fashion-mnist.js';
export { loadMnistIdx, loadMnistDigits, MNIST_CLASSES, MNIST_DIGITS_TRAIN_FRACTION } from './mnist.js';
export { loadCifar10, CIFAR10_CLASSES } from './cifar10.js';
export { loadImageFolder, type ImageFolderOptions } from './image-folder.js';
export { DataLoader, type LoaderOptions, type Batch, type TensorSource } from './loader.js';
export { padBatch, cropBatch, randomCrop, flipBatch, flipBatch_, randomFlip, normalizeBatch, normalizeBatch_, type PadMode } from './augment.js';
export { kPerClass, splitIndices } from './subsets.js';
export { Rng, mixSeed, permutation } from './random.js';
export { datasetSource, folderSource, readImage, type ImageSource, type ReadImageOptions } from './image-source.js';
