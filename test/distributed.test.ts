// Data-parallel training on c10d (Gloo over loopback): 2 processes with batch B end
// where 1 process with batch 2B does (also with batch norm, under SyncBatchNorm); without
// SyncBatchNorm every rank keeps rank 0's batch-norm buffers; SimCLR's gathered NT-Xent is
// the one-process loss; a rank that dies ends the others; a stopped 2-process run resumes
// exactly, and on 1 process with the same global batch (another global batch is refused);
// wrong world sizes and taken ports are clear errors; ranks outlive neither a failed rank
// nor a launcher killed by SIGKILL. Ranks run test/support/ddp-worker.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, shardOrder } from '../src/distributed/index.js';
import { launch } from '../src/distributed/launcher.js';
import { manualSeed, randn } from '../src/tensor/index.js';
import { ntXentLoss, barlowTwinsLoss, vicregLoss } from '../src/ssl/losses/index.js';

const WORKER = fileURLToPath(new URL('./support/ddp-worker.js', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('./support/ddp-launcher.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'selfsup-ddp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const file = (): string => join(tmp, `out${files++}.json`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Exit { code: number | null; stderr: string; ms: number }

function runRank(args: string[], env: Record<string, string>): { done: Promise<Exit>; pid: number } {
  const started = performance.now();
  const child = spawn(process.execPath, [WORKER, ...args], { env: { ...process.env, SELFSUP_NUM_THREADS: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return { pid: child.pid!, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, ms: performance.now() - started }))) };
}

/** Runs `scenario` on `world` ranks (or one plain process when world is 0); all must succeed. */
async function job(world: number, scenario: string, out: string, options: object): Promise<void> {
  const args = [scenario, out, JSON.stringify(options)];
  if (world === 0) {
    const r = await runRank(args, {}).done;
    assert.equal(r.code, 0, r.stderr);
    return;
  }
  const port = String(await freePort());
  const ranks = Array.from({ length: world }, (_, rank) => runRank(args, { MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, WORLD_SIZE: String(world), RANK: String(rank) }));
  for (const r of await Promise.all(ranks.map((x) => x.done))) assert.equal(r.code, 0, r.stderr);
}

// Most checks share two jobs, to start fewer processes: one of 2 ranks that trains each
// 2-process run in turn (and stops one at step 7, saving a checkpoint, then resumes it),
// then one process for the 1-process references (and that checkpoint resumed on 1 process).
const out = {
  twoVit: file(), twoVitAfter: file(), synced: file(), unsynced: file(), ntxent: file(), barlow: file(), vicreg: file(), stopped: file(), resumed: file(),
  oneVit: file(), halfVit: file(), oneCnn: file(), refused: file(), resumedOnOne: file(),
};
const checkpoint = join(tmp, 'resume-ckpt');
const checkpointCopy = join(tmp, 'resume-ckpt-copy');
const vit = { batchSize: 8, steps: 20, epochs: 10 };
const cnn = { batchSize: 8, steps: 12, backbone: 'small-cnn' };
type Run = { scenario: 'train' | 'ntxent'; out: string; options: object };
const twoProcessRuns: Run[] = [
  // Buckets of about 1 KB: many all-reduces, each started by backward's hooks (or after backward).
  { scenario: 'train', out: out.twoVit, options: { ...vit, dataParallel: { bucketCapMB: 0.001 } } },
  { scenario: 'train', out: out.twoVitAfter, options: { ...vit, dataParallel: { bucketCapMB: 0.001, overlap: false } } },
  { scenario: 'train', out: out.synced, options: { ...cnn, syncBatchNorm: true } },
  { scenario: 'train', out: out.unsynced, options: { ...cnn, everyRank: true } },
  { scenario: 'ntxent', out: out.ntxent, options: {} },
  { scenario: 'ntxent', out: out.barlow, options: { loss: 'barlow' } },
  { scenario: 'ntxent', out: out.vicreg, options: { loss: 'vicreg' } },
  { scenario: 'train', out: out.stopped, options: { ...vit, checkpoint, interruptAtStep: 7, copyCheckpointTo: checkpointCopy } },
  { scenario: 'train', out: out.resumed, options: { ...vit, checkpoint, resume: true } },
];
const oneProcessRuns: Run[] = [
  { scenario: 'train', out: out.oneVit, options: { ...vit, batchSize: 16 } },
  { scenario: 'train', out: out.halfVit, options: vit },
  // 12 steps: on this tiny CNN, 1 thread against 2 threads in one process already part by 1e-3 at step 20 (a tie flips).
  { scenario: 'train', out: out.oneCnn, options: { ...cnn, batchSize: 16 } },
  // The 2 x 8 run stopped at step 7, resumed on 1 process: with 8 images (a global batch of 8, refused), then 16.
  { scenario: 'train', out: out.refused, options: { ...vit, checkpoint: checkpointCopy, resume: true, expectError: true } },
  { scenario: 'train', out: out.resumedOnOne, options: { ...vit, batchSize: 16, checkpoint: checkpointCopy, resume: true } },
];
let jobs: Promise<void> | undefined;
/** Both shared jobs, started by the first test that needs them. */
const sharedJobs = (): Promise<void> => (jobs ??= job(2, 'runs', '', twoProcessRuns).then(() => job(0, 'runs', '', oneProcessRuns)));

type Params = Record<string, number[]>;
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** ||a - b|| / ||b|| over every parameter together. */
function relativeDistance(a: Params, b: Params): number {
  let diff = 0;
  let norm = 0;
  for (const [name, values] of Object.entries(b)) {
    const other = a[name]!;
    assert.equal(other.length, values.length, name);
    values.forEach((v, i) => { diff += (other[i]! - v) ** 2; norm += v * v; });
  }
  return Math.sqrt(diff / norm);
}

test('the shards of an epoch are disjoint, and together each global batch is the one-process batch', () => {
  const order = Int32Array.from({ length: 23 }, (_, i) => (i * 7) % 23);
  const shards = [0, 1, 2].map((rank) => shardOrder(order, 3, { rank, worldSize: 3 }));
  for (const s of shards) assert.equal(s.length, 6); // 2 global batches of 9; the last 5 are dropped
  for (let b = 0; b < 2; b++) {
    const together = shards.flatMap((s) => Array.from(s.subarray(3 * b, 3 * b + 3)));
    assert.deepEqual(together, Array.from(order.subarray(9 * b, 9 * b + 9)));
  }
  assert.equal(new Set(shards.flatMap((s) => Array.from(s))).size, 18);
});

test('2 processes with batch B end with the parameters of 1 process with batch 2B after 20 SGD steps', async () => {
  await sharedJobs();
  type Comm = { gradBytesPerStep: number; buckets: number; bucketsStartedInBackward: number; steps: number };
  const [p1, p2, pAfter, pHalf] = [out.oneVit, out.twoVit, out.twoVitAfter, out.halfVit].map((f) => readJson<{ params: Params; steps: number; communication?: Comm }>(f));
  assert.equal(p2!.steps, 20);
  const d = relativeDistance(p2!.params, p1!.params);
  assert.ok(d < 1e-5, `2x8 vs 1x16: relative distance ${d}`);
  // The all-reduces overlapped backward: backward's hooks started every bucket of every step.
  const comm = p2!.communication!;
  assert.ok(comm.buckets > 5, `${comm.buckets} buckets`);
  assert.equal(comm.bucketsStartedInBackward, comm.buckets * comm.steps);
  // All-reduced after backward instead: none started in backward, the same parameters.
  assert.equal(pAfter!.communication!.bucketsStartedInBackward, 0);
  const dAfter = relativeDistance(pAfter!.params, p1!.params);
  assert.ok(dAfter < 1e-5, `2x8 (all-reduce after backward) vs 1x16: relative distance ${dAfter}`);
  // The check can fail: one process with batch 8 lands elsewhere.
  assert.ok(relativeDistance(pHalf!.params, p1!.params) > 1e-3);
  assert.equal(p2!.communication!.gradBytesPerStep, Object.values(p2!.params).reduce((s, v) => s + 4 * v.length, 0));
});

test('with SyncBatchNorm, 2 processes with batch B match 1 process with batch 2B on a batch-norm CNN; without it they do not', async () => {
  await sharedJobs();
  const [p1, pSync] = [out.oneCnn, out.synced].map((f) => readJson<{ params: Params }>(f).params);
  const pLocal = readJson<{ params: Params }>(`${out.unsynced}.rank0`).params;
  const d = relativeDistance(pSync!, p1!);
  assert.ok(d < 1e-5, `SyncBatchNorm 2x8 vs 1x16: relative distance ${d}`);
  assert.ok(relativeDistance(pLocal, p1!) > 1e-4);
});

test("without SyncBatchNorm, every rank ends with rank 0's batch-norm buffers (broadcast each step, as DDP's broadcast_buffers)", async () => {
  await sharedJobs();
  const [r0, r1] = [0, 1].map((r) => readJson<{ params: Params; buffers: Params }>(`${out.unsynced}.rank${r}`));
  const names = Object.keys(r0!.buffers);
  assert.ok(names.some((n) => n.endsWith('running_mean')) && names.some((n) => n.endsWith('num_batches_tracked')), names.join(', '));
  // Each rank's own batches moved its running statistics: identical only if rank 0's reached the other.
  assert.deepEqual(r1!.buffers, r0!.buffers);
  assert.deepEqual(r1!.params, r0!.params);
  assert.ok(Object.entries(r0!.buffers).some(([n, v]) => n.endsWith('running_mean') && v.some((x) => x !== 0)), 'the running means moved');
});

for (const [name, loss, file] of [['SimCLR\'s NT-Xent with gathered negatives', 'ntxent', out.ntxent], ['Barlow Twins over the gathered batch', 'barlow', out.barlow], ['VICReg over the gathered batch', 'vicreg', out.vicreg]] as const) {
  test(`${name} gives the one-process loss and gradient on the same global batch`, async () => {
    await sharedJobs();
    const single = lossInOneProcess(2, loss);
    const ranks = [0, 1].map((r) => readJson<{ loss: number; grad0: number[] }>(`${file}.rank${r}`));
    const mean = (ranks[0]!.loss + ranks[1]!.loss) / 2;
    assert.ok(Math.abs(mean - single.loss) < 1e-5 * Math.abs(single.loss), `${mean} vs ${single.loss}`);
    // Each rank's gradient sums all ranks' losses: W times the one-process gradient of the mean.
    const gathered = [...ranks[0]!.grad0, ...ranks[1]!.grad0].map((g) => g / 2);
    const scale = Math.max(...single.grad0.map(Math.abs));
    const worst = Math.max(...gathered.map((g, i) => Math.abs(g - single.grad0[i]!)));
    assert.ok(worst < 1e-5 * scale, `gradient differs by ${worst} (largest entry ${scale})`);
    // The check can fail: rank 0's rows alone give another loss.
    if (loss !== 'ntxent') assert.ok(Math.abs(lossInOneProcess(2, loss, 6).loss - single.loss) > 1e-3 * Math.abs(single.loss));
  });
}

/** The worker's loss scenario in this process, on all `world` ranks' rows at once (same seed, same draws), or on the first `rows`. */
function lossInOneProcess(world: number, which: 'ntxent' | 'barlow' | 'vicreg', rows = 6 * world): { loss: number; grad0: number[] } {
  manualSeed(11);
  const n = 6 * world;
  const [z0, z1] = [randn([n, 5]).narrow(0, 0, rows).detach().requiresGrad_(), randn([n, 5]).narrow(0, 0, rows).detach().requiresGrad_()];
  const loss = which === 'barlow' ? barlowTwinsLoss(z0, z1) : which === 'vicreg' ? vicregLoss(z0, z1) : ntXentLoss(z0, z1, { temperature: 0.3 });
  loss.backward();
  const result = { loss: loss.item(), grad0: Array.from(z0.grad!.data() as Float32Array) };
  for (const t of [z0, z1, loss]) t.dispose();
  return result;
}

test('killing one rank ends the other with a clear error, well within the timeout', async () => {
  const out = file();
  const port = String(await freePort());
  const env = (rank: number) => ({ MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, WORLD_SIZE: '2', RANK: String(rank), TEST_TIMEOUT: '20' });
  const ranks = [runRank(['hang', out], env(0)), runRank(['hang', out], env(1))];
  const deadline = Date.now() + 20_000;
  while (!(existsSync(`${out}.0`) && existsSync(`${out}.1`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const killedAt = performance.now();
  process.kill(Number(readFileSync(`${out}.1`, 'utf8')), 'SIGKILL');
  const survivor = await ranks[0]!.done;
  const waited = performance.now() - killedAt;
  assert.notEqual(survivor.code, 0);
  assert.match(survivor.stderr, /rank 0: all-reduce failed \(another rank has stopped or died\)/);
  assert.ok(waited < 20_000, `the survivor took ${waited} ms`);
  await ranks[1]!.done;
});

test('a 2-process run stopped by Ctrl-C on rank 0 resumes to the parameters of an uninterrupted run', async () => {
  await sharedJobs();
  const first = readJson<{ steps: number; interrupted: boolean }>(out.stopped);
  assert.equal(first.interrupted, true);
  assert.equal(first.steps, 7);
  const [a, b] = [out.resumed, out.twoVit].map((f) => readJson<{ params: Params; steps: number }>(f));
  assert.equal(a!.steps, 20);
  assert.ok(relativeDistance(a!.params, b!.params) < 1e-6, `resumed vs whole: ${relativeDistance(a!.params, b!.params)}`);
});

test('a 2 x 8 run resumes on 1 process with batch 16 (the same global batch) to the uninterrupted run, and with batch 8 is refused, naming both', async () => {
  await sharedJobs();
  const refused = readJson<{ error: string }>(out.refused).error;
  assert.match(refused, /trained on 2 processes x 8 images \(a global batch of 16\); this run has 1 process x 8 \(8\)/);
  assert.match(refused, /Resume with batchSize 16 on 1 process, or batchSize 8 on 2 processes/);
  const [a, b] = [out.resumedOnOne, out.twoVit].map((f) => readJson<{ params: Params; steps: number }>(f));
  assert.equal(a!.steps, 20);
  // As 1 x 16 against 2 x 8 from the start (the first test): the same run up to float rounding.
  assert.ok(relativeDistance(a!.params, b!.params) < 1e-5, `resumed on 1 process vs whole on 2: ${relativeDistance(a!.params, b!.params)}`);
});

test('ranks that disagree on WORLD_SIZE fail at once, saying so', async () => {
  const port = String(await freePort());
  const base = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, TEST_TIMEOUT: '10' };
  const ranks = [runRank(['hang', file()], { ...base, WORLD_SIZE: '2', RANK: '0' }), runRank(['hang', file()], { ...base, WORLD_SIZE: '3', RANK: '1' })];
  for (const r of await Promise.all(ranks.map((x) => x.done))) {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rank 1 has WORLD_SIZE=3 but rank 0 has WORLD_SIZE=2/);
    assert.ok(r.ms < 10_000);
  }
});

test('a rendezvous port already in use is a clear error', async () => {
  const server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '0.0.0.0', () => resolve((server.address() as { port: number }).port)));
  try {
    await assert.rejects(ProcessGroup.init({ timeoutSeconds: 5 }, { rank: 0, worldSize: 1, localRank: 0, masterAddr: '127.0.0.1', masterPort: port }), /port \d+ is taken/);
    await assert.rejects(launch(['pretrain'], { nprocPerNode: 2, masterPort: port, log: () => {} }), /port \d+ on 127\.0\.0\.1 is already in use/);
  } finally {
    server.close();
  }
});

test('the launcher stops the other ranks when one fails, and returns its exit code', async () => {
  const out = file();
  const started = performance.now();
  const port = await freePort();
  const lines: string[] = [];
  const pending = launch(['hang', out], { nprocPerNode: 2, masterPort: port, script: WORKER, timeoutSeconds: 20, threadsPerProcess: 1, log: (l) => lines.push(l) });
  const deadline = Date.now() + 20_000;
  while (!existsSync(`${out}.1`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  process.kill(Number(readFileSync(`${out}.1`, 'utf8')), 'SIGKILL');
  const result = await pending;
  assert.notEqual(result.exitCode, 0);
  assert.match(lines.join('\n'), /rank 1 was killed by SIGKILL; stopping the other ranks/);
  assert.ok(performance.now() - started < 25_000);
});

test('Ctrl-C at the launcher stops every rank after the same step, and rank 0 saves the checkpoint', async () => {
  const out = file();
  const started = join(tmp, 'sigint-started');
  const checkpoint = join(tmp, 'sigint-ckpt');
  const pending = launch(['train', out, JSON.stringify({ batchSize: 8, steps: 2000, epochs: 200, checkpoint, startedFile: started })], {
    nprocPerNode: 2, masterPort: await freePort(), script: WORKER, timeoutSeconds: 20, threadsPerProcess: 1, log: () => {},
  });
  const deadline = Date.now() + 20_000;
  while (!(existsSync(`${started}.0`) && existsSync(`${started}.1`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // What a terminal's Ctrl-C does to the launcher (its ranks are process groups of their own).
  process.emit('SIGINT');
  const result = await pending;
  assert.deepEqual(result.ranks, [0, 0]);
  const r = readJson<{ steps: number; interrupted: boolean }>(out);
  assert.equal(r.interrupted, true);
  assert.ok(r.steps > 0 && r.steps < 2000);
  assert.ok(existsSync(`${checkpoint}.json`));
  assert.equal((readJson<{ meta: { step: number } }>(`${checkpoint}.json`)).meta.step, r.steps);
});


/** Running and not a zombie (ranks whose launcher died are reaped by whoever adopts them, if anyone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

test('ranks stop within seconds when the launcher is killed with SIGKILL, even in the middle of a collective', async () => {
  const out = file();
  const launcher = spawn(process.execPath, [LAUNCHER, String(await freePort()), 'hang', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  launcher.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const deadline = Date.now() + 20_000;
  while (!(existsSync(`${out}.0`) && existsSync(`${out}.1`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const pids = [0, 1].map((r) => Number(readFileSync(`${out}.${r}`, 'utf8')));
  try {
    // Both ranks are all-reducing with each other, their main threads never free: nothing but the watch can stop them.
    launcher.kill('SIGKILL');
    const killedAt = performance.now();
    while (pids.some(alive) && performance.now() - killedAt < 10_000) await new Promise((r) => setTimeout(r, 50));
    const waited = performance.now() - killedAt;
    assert.deepEqual(pids.map(alive), [false, false], 'ranks still running 10 s after the launcher died');
    assert.ok(waited < 5_000, `the ranks took ${waited} ms`);
    // Rank 0 shares the launcher's stderr, which outlives it.
    await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, /rank 0: the launcher \(pid \d+\) has died; stopping this rank/);
  } finally {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});
