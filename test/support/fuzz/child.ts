// The fuzzer's child process: runs calls [from, to) of a seed, writing each call
// to a progress file before it starts and its outcome after, so that when the
// process dies the parent knows which call killed it. --workers K runs the calls
// on K worker threads at once (the addon loaded in each).
import { openSync, writeSync } from 'node:fs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { makeCall } from './calls.js';

interface Job {
  seed: number;
  indices: number[];
  progress: string;
}

function runJob(job: Job): void {
  const fd = openSync(job.progress, 'a');
  for (const i of job.indices) {
    writeSync(fd, `M\t${i}\n`);
    let call;
    try {
      call = makeCall(job.seed, i);
    } catch (e) {
      writeSync(fd, `E\t${i}\tsetup\t${errorKind(e)}\n`);
      continue;
    }
    writeSync(fd, `S\t${i}\t${call.text.replace(/[\n\t]/g, ' ')}\n`);
    let outcome = 'ok';
    try {
      call.run();
    } catch (e) {
      outcome = `error\t${errorKind(e)}`;
    }
    writeSync(fd, `E\t${i}\t${outcome}\n`);
  }
}

function errorKind(e: unknown): string {
  if (e instanceof Error) return (e.message ? '' : 'empty-message ') + e.constructor.name;
  return `non-Error ${typeof e}`;
}

function parseArgs(argv: string[]): { seed: number; from: number; to: number; progress: string; workers: number } {
  const get = (k: string, d?: string): string => {
    const i = argv.indexOf(`--${k}`);
    const v = i >= 0 ? argv[i + 1] : d;
    if (v === undefined) throw new Error(`fuzz child: --${k} is required`);
    return v;
  };
  return { seed: Number(get('seed')), from: Number(get('from')), to: Number(get('to')), progress: get('progress'), workers: Number(get('workers', '0')) };
}

// `node --test dist/test/` loads every file under test/, this one too: without
// --seed it is not a fuzz child and does nothing.
if (isMainThread && process.argv.includes('--seed')) {
  const a = parseArgs(process.argv.slice(2));
  const all = Array.from({ length: a.to - a.from }, (_, k) => a.from + k);
  if (a.workers <= 0) {
    runJob({ seed: a.seed, indices: all, progress: a.progress });
  } else {
    const self = fileURLToPath(import.meta.url);
    for (let w = 0; w < a.workers; w++) {
      const job: Job = { seed: a.seed, indices: all.filter((_, k) => k % a.workers === w), progress: `${a.progress}.w${w}` };
      const worker = new Worker(self, { workerData: job });
      worker.on('error', (e) => {
        // an exception escaping a worker is a JavaScript failure, not an abort
        process.stderr.write(`worker ${w}: ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exitCode = 3;
      });
    }
  }
} else if (!isMainThread) {
  runJob(workerData as Job);
}
