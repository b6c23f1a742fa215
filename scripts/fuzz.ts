// Fuzzes every libtorch operator (op/callOp), Tensor method and exported tensor
// function with random arguments; each batch runs in a child process, so a call
// that kills the process is counted and printed with the seed that replays it.
//
//   node dist/scripts/fuzz.js --calls 20000 --seed 1 [--workers 3] [--batch 250]
//   node dist/scripts/fuzz.js --seed 1 --only 1234     # print and run one call here
import { runFuzz } from '../test/support/fuzz/runner.js';

function flag(name: string, fallback?: number): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`--${name}: expected a non-negative integer, got ${process.argv[i + 1]}`);
  return v;
}

const seed = flag('seed', 1)!;
const only = flag('only');
if (only !== undefined) {
  const { makeCall } = await import('../test/support/fuzz/calls.js');
  const outcome = (e: unknown): string => `-> ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
  let call;
  try {
    call = makeCall(seed, only);
  } catch (e) {
    console.log(`making the arguments failed ${outcome(e)}`);
  }
  if (call) {
    console.log(call.text);
    try {
      call.run();
      console.log('-> ok');
    } catch (e) {
      console.log(outcome(e));
    }
  }
} else {
  const report = await runFuzz({
    seed,
    calls: flag('calls', 2000)!,
    from: flag('from', 0),
    batch: flag('batch', 250),
    workers: flag('workers', 0),
    log: (line) => console.log(line),
  });
  const aborts = report.failures.filter((f) => f.kind === 'abort').length;
  const hangs = report.failures.length - aborts;
  console.log(`seed ${seed}: ${report.callsRun} calls in ${report.seconds.toFixed(0)} s (${report.children} child processes): ` +
    `${report.ok} ok, ${report.errors} JavaScript errors, ${aborts} aborts, ${hangs} hangs`);
  console.log(`errors by kind: ${JSON.stringify(report.errorKinds)}`);
  if (report.failures.length > 0) process.exitCode = 1;
}
