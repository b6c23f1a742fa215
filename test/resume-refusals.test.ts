// `pretrain --resume` repeats the settings saved in the checkpoint, so it refuses one
// that has none (saved by `experiment`, `demo` or the API, or rewritten), naming the
// file and what is missing, instead of filling in defaults; it falls back to the
// previous checkpoint when the current one is damaged. `experiment` refuses a
// pretraining batch larger than its images, as `pretrain` does.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, saveCheckpoint, readCheckpointInfo } from '../src/io/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');

interface Result { code: number | null; stdout: string; stderr: string }

function cli(...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, SELFSUP_NUM_THREADS: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const exits = (r: Result, code: number): void => assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstderr:\n${r.stderr}`);

let tmp: string;
let run: string;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'selfsup-resume-'));
  run = join(tmp, 'run');
  // Two epochs of 5 steps: a checkpoint and the previous one.
  exits(await cli('pretrain', '--limit', '200', '--held-out', '20', '--batch-size', '32', '--width', '8', '--epochs', '2', '--steps', '0', '--minutes', '0', '--out', run), 0);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the run whose checkpoint carries `meta` instead of what pretrain saved (as experiment's, or a rewrite). */
function runWithMeta(name: string, edit: (meta: Record<string, unknown>) => Record<string, unknown>): string {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  const ck = loadCheckpoint(join(run, 'rotation-pretrain'));
  saveCheckpoint(join(dir, 'rotation-pretrain'), {
    model: { stateDict: () => ck.model },
    optimizer: ck.optimizer ? { stateDict: () => ck.optimizer! } : undefined,
    meta: edit({ ...ck.meta }),
  });
  for (const t of [...ck.model.values(), ...(ck.optimizer?.state.values() ?? [])]) t.dispose();
  return dir;
}

// Each test works in a folder of its own, made from the run above (read only): they run side by side.
describe('pretrain --resume needs the settings pretrain saved', { concurrency: true }, () => {
  test('a checkpoint without them (an experiment\'s, the API\'s) is refused, naming the file and what is missing', async () => {
    const dir = runWithMeta('no-cli', ({ cli: _cli, ...rest }) => ({ ...rest, experiment: { pretext: 'rotation', data: 'Fashion-MNIST' } }));
    const r = await cli('pretrain', '--resume', '--steps', '12', '--out', dir);
    exits(r, 1);
    assert.match(r.stderr, /cannot resume .*no-cli\/rotation-pretrain\.safetensors: it holds no pretrain settings \(meta\.cli, with data, limit, imageSize, backbone, width, epochs, batchSize, lr, heldOut, augment, seed\) \(it was saved by the image experiment/);
    assert.equal(existsSync(join(dir, 'encoder.json')), false, 'nothing was trained');
  });

  test('settings with some missing (a rewritten checkpoint) are refused, listing them', async () => {
    const dir = runWithMeta('some-cli', (meta) => {
      const { data: _data, seed: _seed, ...cli } = meta.cli as Record<string, unknown>;
      return { ...meta, cli };
    });
    const r = await cli('pretrain', '--resume', '--steps', '12', '--out', dir);
    exits(r, 1);
    assert.match(r.stderr, /cannot resume .*some-cli\/rotation-pretrain\.safetensors: its pretrain settings \(meta\.cli\) lack data, seed/);
  });

  test('a damaged checkpoint gives way to the previous one, with a message saying so', async () => {
    const dir = join(tmp, 'damaged');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const f of readdirSync(run)) copyFileSync(join(run, f), join(dir, f));
    const prevStep = readCheckpointInfo(join(dir, 'rotation-pretrain.prev')).meta.step;
    truncateSync(join(dir, 'rotation-pretrain.safetensors'), 100);
    const r = await cli('pretrain', '--resume', '--out', dir, '--json');
    exits(r, 0);
    assert.match(r.stderr, /rotation-pretrain\.safetensors': .*truncated.*; using the previous complete checkpoint, '.*rotation-pretrain\.prev\.safetensors'/);
    assert.match(r.stderr, new RegExp(`resumed from .*rotation-pretrain\\.prev\\.safetensors at epoch \\d+, step ${prevStep}`));
    assert.equal(readCheckpointInfo(join(dir, 'rotation-pretrain')).meta.step, 10, 'the two epochs finished');
  });

  test('a first save killed before its .json copy: the .safetensors alone is the checkpoint', async () => {
    const dir = join(tmp, 'tensors-only');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    copyFileSync(join(run, 'rotation-pretrain.safetensors'), join(dir, 'rotation-pretrain.safetensors'));
    const again = await cli('pretrain', '--limit', '200', '--out', dir);
    exits(again, 2);
    assert.match(again.stderr, /already holds a pretraining run/);
    const r = await cli('pretrain', '--resume', '--epochs', '3', '--out', dir);
    exits(r, 0);
    assert.match(r.stderr, /resumed from .*tensors-only\/rotation-pretrain\.safetensors at epoch 3, step 10/);
  });
});

describe('pretrain --resume keeps --sync-batchnorm and the global batch', () => {
  const lastJson = (r: Result): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const edited = (name: string, cli: Record<string, unknown>, meta: Record<string, unknown> = {}): string =>
    runWithMeta(name, (m) => ({ ...m, ...meta, cli: { ...(m.cli as Record<string, unknown>), ...cli } }));

  test('the setting is saved with the run; --sync-batchnorm on a run trained without it is refused', async () => {
    assert.equal((readCheckpointInfo(join(run, 'rotation-pretrain')).meta.cli as Record<string, unknown>).syncBatchNorm, false);
    const r = await cli('pretrain', '--resume', '--sync-batchnorm', '--out', edited('no-sync', { syncBatchNorm: false }));
    exits(r, 2);
    assert.match(r.stderr, /--sync-batchnorm: the checkpoint's run trained without it .*; a resumed run keeps its settings \(leave --sync-batchnorm out\)/);
  });

  test('a 2-process run with --sync-batchnorm resumed on 1 process keeps it, and its global batch (twice the batch per process)', async () => {
    // As the 2 x 16 run of the same 32-image global batch would have saved it.
    const dir = edited('two-process', { syncBatchNorm: true, batchSize: 16 }, { worldSize: 2 });
    const r = await cli('pretrain', '--resume', '--out', dir, '--json');
    exits(r, 0);
    assert.match(r.stderr, /resuming a 2-process run on 1 process: 32 images per process keep its global batch of 32/);
    const settings = lastJson(r).settings as Record<string, unknown>;
    assert.equal(settings.syncBatchNorm, true, 'restored from the checkpoint');
    assert.equal(settings.batchSize, 32);
    const refused = await cli('pretrain', '--resume', '--batch-size', '16', '--out', dir);
    exits(refused, 2);
    assert.match(refused.stderr, /--batch-size 16 on 1 process is a global batch of 16, but the checkpoint's run trained on 2 processes x 16 images \(a global batch of 32\); a resumed run keeps its global batch \(--batch-size 32 on 1 process, or leave it out\)/);
  });
});

test('experiment refuses a pretraining batch larger than its images, before writing anything', async () => {
  const config = join(tmp, 'big-batch.json');
  writeFileSync(config, JSON.stringify({ pretrain: { batchSize: 5000 } }));
  const out = join(tmp, 'experiment');
  const r = await cli('experiment', '--config', config, '--methods', 'rotation-knn', '--ks', '10', '--seeds', '0', '--limit', '300', '--test-limit', '100', '--out', out);
  exits(r, 2);
  assert.match(r.stderr, /pretrain\.batchSize 5000 is larger than the 270 images rotation pretrains on \(300 training images, 30 held out\)/);
  assert.equal(existsSync(out), false);
});
