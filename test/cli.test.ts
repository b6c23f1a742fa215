// The command-line interface, run as users run it: `node dist/src/cli/main.js ...`
// in a child process, checking exit codes, messages, JSON output and the files written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../src/cli/commands.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
// One libtorch thread per child: two threads crawl when another process holds a core.
const ENV = { ...process.env, SELFSUP_NUM_THREADS: '1' };

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function start(args: string[]): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

const cli = (...args: string[]): Promise<Result> => start(args).done;

/** The last line of stdout, parsed: what --json promises. */
function lastJson(r: Result): Record<string, any> {
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!);
  } catch {
    throw new Error(`the last stdout line is not JSON.\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

function assertExit(r: Result, code: number): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code} (signal ${r.signal})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

const noStack = (r: Result): void => assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `stack trace printed:\n${r.stderr}`);

let tmp: string;
before(() => { tmp = mkdtempSync(join(tmpdir(), 'selfsup-cli-')); });
after(() => rmSync(tmp, { recursive: true, force: true }));

// The end-to-end demo takes the longest: it starts first and runs beside the other tests.
// 10 rotation pretraining steps instead of --quick's 40 (about 51 CPU seconds instead of 72, on
// one thread): every stage still runs, and nothing below depends on how well the encoder learnt.
let demo: Promise<Result>;
let demoOut: string;
before(() => {
  demoOut = join(tmp, 'demo');
  demo = cli('demo', '--quick', '--pretrain-steps', '10', '--json', '--out', demoOut);
});

// Tests that only read (or write into folders of their own) run side by side: { concurrency: true }.
describe('help and version', { concurrency: true }, () => {
  test('selfsup --help lists every command; --version prints the package version', async () => {
    const r = await cli('--help');
    assertExit(r, 0);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name}\\s+\\S`, 'm'), `${c.name} missing from --help`);
    const v = await cli('--version');
    assertExit(v, 0);
    assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  test('no command: the command list on stderr, exit 2', async () => {
    const r = await cli();
    assertExit(r, 2);
    assert.match(r.stderr, /Usage: selfsup <command>/);
  });

  for (const c of COMMANDS) {
    test(`selfsup ${c.name} --help shows usage, every option with its default, and an example`, async () => {
      const r = await cli(c.name, '--help');
      assertExit(r, 0);
      assert.match(r.stdout, new RegExp(`Usage: selfsup ${c.name}`));
      assert.match(r.stdout, new RegExp(`Examples:\\n  selfsup ${c.name}`));
      const flat = r.stdout.replace(/\s+/g, ' ');
      for (const [name, o] of Object.entries(c.options)) {
        assert.ok(flat.includes(`--${name}`), `--${name} missing from ${c.name} --help`);
        const dflt = o.defaultText ?? o.default;
        if (dflt !== undefined) assert.ok(flat.includes(`(default: ${dflt.replace(/\s+/g, ' ')})`), `default of --${name} missing from ${c.name} --help`);
      }
      assert.equal(r.stderr, '');
    });
  }
});

describe('usage errors exit 2 with a helpful message', { concurrency: true }, () => {
  test('unknown command, with a suggestion', async () => {
    const r = await cli('pretrian');
    assertExit(r, 2);
    assert.match(r.stderr, /unknown command 'pretrian' \(did you mean 'pretrain'\?\)/);
    noStack(r);
  });

  test('unknown option, with a suggestion and a pointer to --help', async () => {
    const r = await cli('pretrain', '--epoch', '3');
    assertExit(r, 2);
    assert.match(r.stderr, /unknown option --epoch .*did you mean --epochs\?/);
    assert.match(r.stderr, /selfsup pretrain --help/);
    noStack(r);
  });

  test('bad values and missing values name the option', async () => {
    const cases: [string[], RegExp][] = [
      [['pretrain', '--epochs', 'ten'], /--epochs must be a positive integer, got 'ten'/],
      [['pretrain', '--epochs'], /--epochs needs a value/],
      [['pretrain', '--backbone', 'resnet50'], /--backbone must be one of small-cnn, nin, resnet18/],
      [['finetune', '--seeds', '0,x'], /--seeds must be a comma-separated list/],
      [['experiment', '--methods', 'scratch,rotaton-knn'], /unknown 'rotaton-knn' \(did you mean rotation-knn\?\)/],
      [['pretrain', '--data', 'imagenet'], /unknown data 'imagenet'/],
      [['pretrain', '--data', 'cifar10'], /cifar10 needs a directory/],
      [['knn', '--threads', '0'], /--threads must be an integer from 1 to \d+/],
      [['pretrain', '--resume=yes'], /--resume is a flag/],
      [['pretrain', 'extra'], /takes no positional arguments/],
      [['neighbors'], /missing WORD/],
      [['probe'], /--encoder is required/],
    ];
    // Each case is a short-lived process: run them side by side.
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      assertExit(r, 2);
      assert.match(r.stderr, message, `selfsup ${args.join(' ')}`);
      noStack(r);
    }
  });

  test('with --json, the last stdout line is a JSON error', async () => {
    const r = await cli('finetune', '--k', '0', '--json');
    assertExit(r, 2);
    const j = lastJson(r);
    assert.equal(j.ok, false);
    assert.equal(j.exitCode, 2);
    assert.match(j.error, /--k must be a positive integer/);
  });
});

describe('failures exit 1 with a clear message', { concurrency: true }, () => {
  test('a data directory that does not exist', async () => {
    const missing = join(tmp, 'no-such-dir');
    const [r, verbose] = await Promise.all([
      cli('pretrain', '--data', `cifar10:${missing}`, '--out', join(tmp, 'unused')),
      cli('pretrain', '--data', `folder:${missing}`, '--verbose'),
    ]);
    assertExit(r, 1);
    assert.match(r.stderr, new RegExp(`data folder not found: ${missing}`));
    noStack(r);
    assertExit(verbose, 1);
    assert.match(verbose.stderr, /\n\s+at .+:\d+:\d+/, '--verbose shows the stack');
  });

  test('an encoder directory without an encoder, and a report directory without results', async () => {
    const [r, rep] = await Promise.all([cli('probe', '--encoder', tmp), cli('report', tmp)]);
    assertExit(r, 1);
    assert.match(r.stderr, /no encoder in .*encoder\.json does not exist/);
    noStack(r);
    assertExit(rep, 1);
    assert.match(rep.stderr, /no results in/);
    noStack(rep);
  });

  test('a bad --config file', async () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, '{"pretrain": {"epoch": 3}}');
    const r = await cli('experiment', '--config', file);
    assertExit(r, 2);
    assert.match(r.stderr, /unknown setting 'epoch'/);
  });
});

// Small runs: a narrow network on a few hundred images.
const TINY = ['--limit', '600', '--width', '8', '--batch-size', '32', '--held-out', '60', '--minutes', '0'];
const LABELLED = ['--limit', '1000', '--test-limit', '200'];

// The tests after the first pretrain run side by side: they only read its folder (the resume test
// resumes a copy of it) and write into folders of their own.
describe('pretrain, then finetune, probe and knn on its encoder', { concurrency: true }, () => {
  let dir: string;
  let first: Record<string, any>;

  before(async () => {
    dir = join(tmp, 'rot');
    const r = await cli('pretrain', ...TINY, '--epochs', '1', '--out', dir, '--json');
    assertExit(r, 0);
    first = lastJson(r);
  });

  test('pretrain reports rotation accuracy and speed and writes checkpoint and encoder', () => {
    assert.equal(first.ok, true);
    assert.ok(first.rotationAccuracy >= 0 && first.rotationAccuracy <= 1);
    assert.ok(first.imagesPerSecond > 0);
    assert.equal(first.heldOut, 60);
    assert.equal(first.stepsPerEpoch, Math.floor(540 / 32));
    assert.equal(first.steps, first.stepsPerEpoch);
    for (const f of ['rotation-pretrain.safetensors', 'rotation-pretrain.json', 'encoder.safetensors', 'encoder.json', 'metrics.jsonl']) {
      assert.ok(existsSync(join(dir, f)), `${f} missing`);
    }
    const info = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8'));
    assert.equal(info.backbone, 'small-cnn');
    assert.equal(info.width, 8);
    assert.deepEqual(info.blocks, ['block1', 'block2', 'block3']);
  });

  test('pretrain --resume continues from the checkpoint', async () => {
    const resumed = join(tmp, 'rot-resumed');
    cpSync(dir, resumed, { recursive: true });
    const r = await cli('pretrain', '--resume', '--epochs', '2', '--out', resumed, '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.match(r.stderr, /resumed from .*rotation-pretrain\.safetensors at epoch 2, step \d+/);
    assert.equal(j.resumed, true);
    assert.equal(j.steps, 2 * first.stepsPerEpoch, 'the second run adds one epoch to the first');
    assert.equal(j.settings.width, 8, 'settings come from the checkpoint');
    const [conflict, again, nothing] = await Promise.all([
      cli('pretrain', '--resume', '--width', '16', '--out', resumed),
      // Pretraining again into the same --out without --resume would mix two runs: refused.
      cli('pretrain', '--out', resumed),
      cli('pretrain', '--resume', '--out', join(tmp, 'empty')),
    ]);
    assertExit(conflict, 2);
    assert.match(conflict.stderr, /--width 16 differs from the checkpoint's 8/);
    assertExit(again, 2);
    assert.match(again.stderr, /already holds a pretraining run; continue it with --resume, start over with --force/);
    assertExit(nothing, 1);
    assert.match(nothing.stderr, /nothing to resume/);
  });

  test('finetune --encoder: accuracy per seed and mean ± std', async () => {
    const [r, bad] = await Promise.all([
      cli('finetune', '--encoder', dir, ...LABELLED, '--k', '5', '--seeds', '0,1', '--steps', '5', '--freeze', 'block1,block2', '--json'),
      cli('finetune', '--encoder', dir, '--freeze', 'block9'),
    ]);
    assertExit(r, 0);
    const j = lastJson(r);
    assert.deepEqual(j.runs.map((x: { seed: number }) => x.seed), [0, 1]);
    for (const run of j.runs) assert.ok(run.accuracy >= 0 && run.accuracy <= 1 && run.trainImages === 50);
    assert.ok(Math.abs(j.mean - (j.runs[0].accuracy + j.runs[1].accuracy) / 2) < 1e-12);
    assert.deepEqual(j.freeze, ['block1', 'block2']);
    assert.equal(j.testImages, 200);
    assert.match(r.stderr, /seed 0: .*% test accuracy/);
    assertExit(bad, 2);
    assert.match(bad.stderr, /no block 'block9'; its blocks are block1, block2, block3/);
  });

  test('finetune without --encoder trains from scratch', async () => {
    const r = await cli('finetune', ...LABELLED, '--width', '8', '--k', '3', '--seeds', '0', '--steps', '3', '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.encoder, null);
    assert.deepEqual(j.freeze, []);
    assert.equal(j.runs.length, 1);
  });

  test('probe on a chosen block', async () => {
    const r = await cli('probe', '--encoder', dir, ...LABELLED, '--block', 'block2', '--k', '5', '--seeds', '0,1,2', '--steps', '50', '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.block, 'block2');
    assert.equal(j.runs.length, 3);
    for (const run of j.runs) assert.ok(run.accuracy >= 0 && run.accuracy <= 1 && run.trainAccuracy >= 0);
  });

  test('knn records the neighbour count and temperature', async () => {
    const r = await cli('knn', '--encoder', dir, ...LABELLED, '--k', '10', '--seeds', '0,1', '--neighbors', '7', '--temperature', '0.2', '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.neighbors, 7);
    assert.equal(j.temperature, 0.2);
    assert.equal(j.block, 'block3');
    assert.equal(j.runs.length, 2);
    for (const run of j.runs) assert.ok(run.accuracy >= 0 && run.accuracy <= 1 && run.neighbors === 7 && run.trainImages === 100);
    // A class-balanced labelled set beats chance (10%) even for a one-epoch encoder.
    assert.ok(j.mean > 0.2, `kNN accuracy ${j.mean}`);
  });

  test('pretrain --method simclr: the monitors, a checkpoint named for the method, an encoder that finetune and knn take, and resume', async () => {
    const out = join(tmp, 'simclr');
    const r = await cli('pretrain', '--method', 'simclr', ...TINY, '--steps', '6', '--out', out, '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.method, 'simclr');
    assert.equal(j.steps, 6);
    assert.equal(j.rotationAccuracy, null);
    assert.ok(j.monitors.knn_acc >= 0 && j.monitors.knn_acc <= 1, 'kNN monitor on the held-out images');
    assert.ok(j.monitors.embedding_std > 0, 'embedding spread');
    assert.match(r.stderr, /monitors on 60 held-out images: kNN accuracy/);
    for (const f of ['simclr-pretrain.safetensors', 'simclr-pretrain.json', 'encoder.safetensors', 'encoder.json']) assert.ok(existsSync(join(out, f)), `${f} missing`);
    assert.equal(JSON.parse(readFileSync(join(out, 'encoder.json'), 'utf8')).method, 'simclr');
    // finetune and knn read the encoder side by side; the resume below rewrites it, so it waits for them.
    const [ft, kn, bad] = await Promise.all([
      cli('finetune', '--encoder', out, ...LABELLED, '--k', '5', '--seeds', '0', '--steps', '3', '--json'),
      cli('knn', '--encoder', out, ...LABELLED, '--k', '5', '--seeds', '0', '--json'),
      cli('pretrain', '--method', 'simclrr', '--out', out),
    ]);
    assertExit(ft, 0);
    assertExit(kn, 0);
    const resumed = await cli('pretrain', '--resume', '--steps', '8', '--out', out, '--json');
    assertExit(resumed, 0);
    assert.match(resumed.stderr, /simclr-pretrain: resumed from .*simclr-pretrain\.safetensors/);
    assert.equal(lastJson(resumed).method, 'simclr', 'the method comes from the checkpoint');
    assertExit(bad, 2);
    assert.match(bad.stderr, /--method must be one of rotation, jigsaw, relative-patch, simclr, .*dino, mae; got 'simclrr' \(did you mean simclr\?\)/);
  });

  test('pretrain --method-options and --weight-decay: used, saved with the run, kept on resume; bad ones are usage errors', async () => {
    const out = join(tmp, 'jigsaw-assembled');
    const options = '{"grid": 2, "imageSize": 32, "tile": 12, "gap": 2, "input": "assembled"}';
    const r = await cli('pretrain', '--method', 'jigsaw', ...TINY, '--steps', '3', '--weight-decay', '0.005', '--method-options', options, '--out', out, '--json');
    assertExit(r, 0);
    const saved = JSON.parse(readFileSync(join(out, 'jigsaw-pretrain.json'), 'utf8'));
    const text = JSON.stringify(saved);
    assert.match(text, /"input":"assembled"/, 'the method describes its options in the checkpoint');
    assert.match(text, /"weightDecay":0.005/);
    assert.match(text, /"methodOptions":\{"grid":2,"imageSize":32,"tile":12,"gap":2,"input":"assembled"\}/);
    const [resumed, notJson, notObject, badValue, unknown] = await Promise.all([
      cli('pretrain', '--resume', '--steps', '5', '--out', out, '--json'),
      cli('pretrain', '--method', 'jigsaw', '--method-options', '{grid: 2}', '--out', join(tmp, 'never-1')),
      cli('pretrain', '--method', 'jigsaw', '--method-options', '[2]', '--out', join(tmp, 'never-2')),
      cli('pretrain', '--method', 'jigsaw', ...TINY, '--method-options', '{"input": "whole"}', '--out', join(tmp, 'never-3')),
      cli('pretrain', '--method', 'jigsaw', ...TINY, '--method-options', '{"inptu": "assembled"}', '--out', join(tmp, 'never-4')),
    ]);
    assertExit(resumed, 0);
    assert.equal(lastJson(resumed).steps, 5);
    assert.match(JSON.stringify(JSON.parse(readFileSync(join(out, 'jigsaw-pretrain.json'), 'utf8'))), /"input":"assembled"/, 'the resumed run kept the options');
    const differs = await cli('pretrain', '--resume', '--steps', '6', '--method-options', '{"grid": 3}', '--out', out);
    assertExit(differs, 2);
    assert.match(differs.stderr, /--method-options \{"grid":3\} differs from the checkpoint's \{"grid":2,.*"input":"assembled"\}/);
    for (const [bad, message] of [[notJson, /--method-options: not JSON/], [notObject, /--method-options: expected a JSON object/], [badValue, /--method-options: jigsaw: input must be 'tiles' or 'assembled'/],
      [unknown, /--method-options: jigsaw: unknown option 'inptu'; its options are grid, /]] as const) {
      assertExit(bad, 2);
      assert.match(bad.stderr, message);
      noStack(bad);
    }
  });

  test('pretrain --help lists every image method with a line each', async () => {
    const r = await cli('pretrain', '--help');
    assertExit(r, 0);
    for (const m of ['rotation', 'simclr', 'moco', 'byol', 'simsiam', 'barlow-twins', 'vicreg', 'dino', 'mae']) assert.match(r.stdout, new RegExp(`^  ${m} +\\S`, 'm'));
  });
});

describe('experiment', () => {
  test('a small image experiment with a --config file prints the method x k table and writes the report', async () => {
    const out = join(tmp, 'experiment');
    const config = join(tmp, 'small.json');
    writeFileSync(config, JSON.stringify({ scratch: { steps: 10 }, knn: { k: 5 } }));
    const r = await cli('experiment', ...LABELLED, '--width', '8', '--ks', '3,5', '--seeds', '0', '--methods', 'scratch,rotation-knn',
      '--pretrain-steps', '5', '--config', config, '--out', out);
    assertExit(r, 0);
    // One seed: the mean alone (a spread of one run is no spread).
    assert.match(r.stdout, /method\s+k=3 \(%\)\s+k=5 \(%\)\n-+ +-+ +-+\nscratch\s+\d+\.\d\s+\d+\.\d\nrotation-knn\s+\d+\.\d\s+\d+\.\d\n/);
    const data = JSON.parse(readFileSync(join(out, 'report-data.json'), 'utf8'));
    assert.equal(data.config.scratch.steps, 10, '--config reached the experiment');
    assert.equal(data.config.knn.k, 5);
    assert.equal(data.config.pretrain.maxSteps, 5);
    assert.deepEqual(data.results.map((x: { method: string; k: number }) => `${x.method}@${x.k}`), ['scratch@3', 'scratch@5', 'rotation-knn@3', 'rotation-knn@5']);
    assert.ok(existsSync(join(out, 'report.html')));

    // Without report-data.json (a copy of the run without it), report falls back to results.json (no images or maps).
    const light = join(tmp, 'light');
    const withoutData = join(tmp, 'experiment-without-data');
    cpSync(out, withoutData, { recursive: true });
    rmSync(join(withoutData, 'report-data.json'));
    const [rep, fallback] = await Promise.all([cli('report', out, '--out', join(tmp, 'full')), cli('report', withoutData, '--out', light, '--json')]);
    assertExit(rep, 0);
    assertExit(fallback, 0);
    assert.equal(lastJson(fallback).complete, false);
    assert.match(fallback.stderr, /no report-data\.json/);
    assert.doesNotMatch(readFileSync(join(light, 'report.html'), 'utf8'), /<section id="embeddings"/);
  });
});

describe('text', () => {
  const textBuilt = existsSync(join(root, 'dist', 'src', 'text', 'index.js'));
  const experimentBuilt = existsSync(join(root, 'dist', 'src', 'experiment', 'text.js'));

  test('neighbors lists the nearest words of saved word vectors, most similar first', async (t) => {
    if (!textBuilt) return t.skip('src/text is not built');
    const text = await import(join(root, 'dist', 'src', 'text', 'index.js'));
    const { tensor } = await import('../src/tensor/index.js');
    const dir = join(tmp, 'vectors');
    mkdirSync(dir);
    const vocab = new text.WordVocab(['<unk>', 'dog', 'puppy', 'cat', 'car'], Float64Array.from([1, 5, 5, 5, 5]), 1);
    const rows = [[0, 0, 1], [1, 0, 0], [0.9, 0.1, 0], [0.5, 0.5, 0], [-1, 0.1, 0]];
    const vectors = new text.WordVectors(vocab, tensor(Float32Array.from(rows.flat()), { shape: [5, 3] }));
    vectors.save(join(dir, 'word-vectors.safetensors'));
    vectors.dispose();
    const r = await cli('neighbors', 'dog', '--vectors', dir, '--count', '3', '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.deepEqual(j.neighbors.map((n: { word: string }) => n.word), ['puppy', 'cat', 'car']);
    assert.ok(Math.abs(j.neighbors[0].similarity - 0.9 / Math.hypot(0.9, 0.1)) < 1e-5);
    assert.match(r.stderr, /nearest to 'dog'/);
    const unknown = await cli('neighbors', 'zebra', '--vectors', dir);
    assertExit(unknown, 1);
    assert.match(unknown.stderr, /'zebra' is not in the vocabulary/);
    noStack(unknown);
  });

  test('experiment --modality text checks --config against the text configuration and rejects image options', async (t) => {
    if (!experimentBuilt) return t.skip('src/experiment/text.ts is not built');
    const file = join(tmp, 'text-bad.json');
    writeFileSync(file, '{"seedz": [0]}');
    const r = await cli('experiment', '--modality', 'text', '--config', file, '--out', join(tmp, 'text-unused'));
    assertExit(r, 2);
    assert.match(r.stderr, /unknown setting 'seedz' \(did you mean 'seeds'\?\)/);
    const image = await cli('experiment', '--modality', 'text', '--backbone', 'nin');
    assertExit(image, 2);
    assert.match(image.stderr, /--backbone is for image experiments/);
    const unknown = await cli('experiment', '--modality', 'text', '--methods', 'skipgram,bert', '--out', join(tmp, 'text-unused'));
    assertExit(unknown, 2);
    assert.match(unknown.stderr, /--methods.*bert/);
    assert.match(unknown.stderr, /electra/);
  });

  test('experiment --modality text --quick runs the text experiment and writes its report', async (t) => {
    if (!experimentBuilt) return t.skip('src/experiment/text.ts is not built');
    if (!existsSync('/usr/share/wordnet')) return t.skip('WordNet is not installed');
    const out = join(tmp, 'text');
    const config = join(tmp, 'text-options.json');
    writeFileSync(config, JSON.stringify({ mlm: { maskFrequencyThreshold: 1e-3 } })); // an option off by default is still a known setting
    const r = await cli('experiment', '--modality', 'text', '--quick', '--seeds', '0', '--minutes', '0.05', '--methods', 'skipgram,masked-lm,electra,simcse', '--config', config, '--out', out, '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.modality, 'text');
    assert.deepEqual([...new Set(j.results.map((x: { method: string }) => x.method))],
      ['bow-scratch', 'skipgram-linear', 'skipgram-propagate', 'mlm-probe', 'mlm-finetune', 'electra-probe', 'electra-finetune', 'simcse-probe', 'simcse-finetune'], 'each method under its protocols, bow-scratch added');
    for (const x of j.results) {
      assert.deepEqual(x.runs.length, 1, 'one seed');
      assert.ok(x.mean >= 0 && x.mean <= 1);
    }
    assert.equal(j.reportPath, join(out, 'report.html'));
    assert.ok(existsSync(join(out, 'report-data.json')));
    const saved = JSON.parse(readFileSync(join(out, 'report-data.json'), 'utf8')).config;
    assert.equal(saved.mlm.timeBudgetSeconds, 3, "--minutes sets the masked LM's time budget");
    assert.equal(saved.mlm.maxSteps, undefined, '... instead of its step budget');
    assert.equal(saved.electra.maxSteps, 60, 'the other pretrainings keep their step budgets');
    assert.equal(saved.mlm.maskFrequencyThreshold, 1e-3);
    const n = await cli('neighbors', 'the', '--vectors', out, '--count', '4', '--json');
    assertExit(n, 0);
    assert.equal(lastJson(n).neighbors.length, 4);
  });
});

describe('Ctrl-C', () => {
  test('SIGINT during pretrain saves a checkpoint and exits 130; --resume finishes the epoch', async () => {
    const dir = join(tmp, 'interrupted');
    const { child, done } = start(['pretrain', ...TINY, '--limit', '3000', '--epochs', '50', '--out', dir, '--json']);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (stderr.includes('training (Ctrl-C')) resolve();
      });
      child.on('close', () => reject(new Error(`pretrain ended before training started:\n${stderr}`)));
    });
    child.kill('SIGINT');
    const r = await done;
    assertExit(r, 130);
    noStack(r);
    assert.match(r.stderr, /checkpoint saved: .*rotation-pretrain\.safetensors/);
    assert.match(r.stderr, /selfsup pretrain --resume --out/);
    assert.ok(existsSync(join(dir, 'rotation-pretrain.safetensors')));
    assert.ok(existsSync(join(dir, 'rotation-pretrain.json')));
    assert.equal(existsSync(join(dir, 'encoder.json')), false, 'an interrupted run writes no encoder');
    assert.equal(lastJson(r).exitCode, 130);
    const saved = JSON.parse(readFileSync(join(dir, 'rotation-pretrain.json'), 'utf8')).meta;
    assert.ok(saved.step >= 1 && saved.stepInEpoch === saved.step, 'saved inside the first epoch');

    const resumed = await cli('pretrain', '--resume', '--epochs', '1', '--out', dir, '--json');
    assertExit(resumed, 0);
    const j = lastJson(resumed);
    assert.equal(j.steps, j.stepsPerEpoch, 'the resumed run completes the interrupted epoch');
    assert.ok(existsSync(join(dir, 'encoder.json')));
  });
});

describe('demo --quick, end to end', () => {
  test('prints the results of all five methods as JSON and writes the report', async () => {
    const r = await demo;
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.ok, true);
    const methods = ['scratch', 'transfer', 'rotation-finetune', 'rotation-probe', 'rotation-knn'];
    assert.deepEqual(j.results.map((x: { method: string }) => x.method).sort(), [...methods].sort());
    for (const x of j.results) {
      assert.equal(x.k, 10);
      assert.equal(x.runs.length, 2, 'two seeds');
      for (const a of [x.mean, ...x.runs]) assert.ok(a >= 0 && a <= 1, `${x.method}: accuracy ${a}`);
      assert.ok(x.std >= 0);
    }
    assert.ok(j.rotationAccuracy >= 0 && j.rotationAccuracy <= 1);
    assert.ok(j.pretrainImagesPerSecond > 0);
    assert.equal(j.reportPath, join(demoOut, 'report.html'));
    for (const f of ['report.html', 'results.json', 'report-data.json', 'encoder.json', 'rotation-encoder.safetensors']) {
      assert.ok(existsSync(join(demoOut, f)), `${f} missing`);
    }
    assert.match(r.stderr, /rotation-knn/);
    assert.match(r.stderr, /report: .*report\.html/);
  });

  test('report re-renders the page from report-data.json', async () => {
    await demo;
    const copy = join(tmp, 'report-copy');
    const r = await cli('report', demoOut, '--out', copy, '--json');
    assertExit(r, 0);
    const j = lastJson(r);
    assert.equal(j.complete, true);
    const html = readFileSync(join(copy, 'report.html'), 'utf8');
    for (const section of ['results', 'rotations', 'embeddings']) assert.match(html, new RegExp(`<section id="${section}"`));
    assert.deepEqual(JSON.parse(readFileSync(join(copy, 'results.json'), 'utf8')).results, JSON.parse(readFileSync(join(demoOut, 'results.json'), 'utf8')).results);
  });

  test('the demo encoder works with knn', async () => {
    await demo;
    const r = await cli('knn', '--encoder', demoOut, ...LABELLED, '--seeds', '0', '--json');
    assertExit(r, 0);
    assert.ok(lastJson(r).mean > 0.1);
  });
});
