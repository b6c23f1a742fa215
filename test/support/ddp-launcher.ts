// `selfsup launch` as its own process, for test/distributed.test.ts to kill with SIGKILL:
// starts 2 ranks of test/support/ddp-worker.ts. argv: master port, then the worker's argv.
import { fileURLToPath } from 'node:url';
import { launch } from '../../src/distributed/launcher.js';

const [port, ...argv] = process.argv.slice(2);
// `node --test dist/test/` also runs this file, without arguments: nothing to do then.
if (port !== undefined) {
  const worker = fileURLToPath(new URL('./ddp-worker.js', import.meta.url));
  const result = await launch(argv, { nprocPerNode: 2, masterPort: Number(port), script: worker, timeoutSeconds: 20, threadsPerProcess: 1 });
  process.exitCode = result.exitCode;
}
