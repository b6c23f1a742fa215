// selfsup as a new user gets it: `npm pack`, the tarball installed into a fresh project,
// a strict TypeScript program (no skipLibCheck, no DOM lib) type-checked against its
// declarations, and the README's TypeScript blocks, extracted at test time, run as written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeImageFolder } from './support/image-folder.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

/** What a user needs to run and build: the compiled library, the addon's sources, the PyTorch loader the README points to. */
const ALLOWED = (path: string): boolean =>
  (path.startsWith('dist/src/') && !path.endsWith('.map')) || path.startsWith('native/') ||
  ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'scripts/selfsup_encoder.py'].includes(path);
const REQUIRED = ['package.json', 'README.md', 'binding.gyp', 'native/selfsup.cc', 'scripts/selfsup_encoder.py',
  'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/native/binding.js'];

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, SELFSUP_NUM_THREADS: '1', ...env }, timeout: 120_000 });
}
const ok = (r: SpawnSyncReturns<string>, what: string): string => {
  assert.equal(r.status, 0, `${what}: exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

let work: string;
let project: string;
let packed: { filename: string; files: { path: string }[] };
before(() => {
  work = mkdtempSync(join(tmpdir(), 'selfsup-package-'));
  // The same listing `npm pack --dry-run --json` gives, from the tarball that is then installed.
  packed = JSON.parse(ok(run('npm', ['pack', '--json', '--pack-destination', work], root), 'npm pack'))[0];
  project = join(work, 'project');
  mkdirSync(project);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds what runs and builds, and nothing else (no tests, fixtures, benchmarks, CI or notes)', () => {
  const paths = packed.files.map((f) => f.path);
  assert.deepEqual(paths.filter((p) => !ALLOWED(p)), []);
  for (const p of REQUIRED) assert.ok(paths.includes(p), `${p} is in the tarball`);
});

test('installed into a fresh strict TypeScript project: declarations check, the README\'s TypeScript runs', { timeout: 240_000 }, async () => {
  // Installed as npm would with --ignore-scripts: the tarball unpacked into node_modules/selfsup,
  // the bin linked, the dependencies linked from this checkout's node_modules (no network). The
  // install script (node-gyp rebuild) takes minutes here; the addon this checkout built is
  // copied in instead, after checking the message a missing addon gives.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'try-selfsup', private: true, type: 'module', dependencies: { selfsup: `file:${packed.filename}` } }));
  const installed = join(project, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  ok(run('tar', ['xzf', join(work, packed.filename), '-C', installed, '--strip-components', '1'], project), 'unpacking the tarball');
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep));
  }
  mkdirSync(join(project, 'node_modules', '.bin'));
  symlinkSync(join('..', pkg.name, 'dist', 'src', 'cli', 'main.js'), join(project, 'node_modules', '.bin', 'selfsup'));

  const missing = run(process.execPath, ['--input-type=module', '-e', "await import('selfsup')"], project);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /the native addon is not built\. In a project that uses selfsup, run `npm rebuild selfsup`; in the selfsup repository, `npm run build:native`/);
  mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
  copyFileSync(join(root, 'build', 'Release', 'selfsup_native.node'), join(installed, 'build', 'Release', 'selfsup_native.node'));
  assert.match(ok(run(process.execPath, [join(project, 'node_modules', '.bin', 'selfsup'), '--version'], project), 'selfsup --version'), new RegExp(pkg.version.replace(/\./g, '\\.')));

  // The README's ```ts blocks: one that imports selfsup is a program and runs; one that does not
  // continues the block before it (it uses that block's imports) and is type-checked with it.
  const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.ok(blocks.length >= 3, `the README has ${blocks.length} TypeScript blocks`);
  const programs: string[] = [];
  blocks.forEach((code, i) => {
    const name = `readme-${i + 1}`;
    if (/from 'selfsup'/.test(code)) {
      programs.push(name);
      writeFileSync(join(project, `${name}.ts`), code);
    } else {
      // The fragment's training loop reads `batches`, which the README leaves to the reader.
      const declared = /\bbatches\b/.test(code) ? "declare const batches: Iterable<{ x: import('selfsup').Tensor; y: import('selfsup').Tensor }>;\n" : '';
      writeFileSync(join(project, `${name}.ts`), `${blocks[i - 1]}\n${declared}${code}`);
    }
  });
  // Every public declaration, pulled in by importing the whole package.
  writeFileSync(join(project, 'everything.ts'), "import * as selfsup from 'selfsup';\nconsole.log(Object.keys(selfsup).length);\n");
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: ['node'], outDir: 'out',
    },
    include: ['*.ts'],
  }));
  ok(run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project), 'strict tsc without skipLibCheck');

  await writeImageFolder(join(project, 'my-images'));
  const outputs = programs.map((name) => ok(run(process.execPath, [join('out', `${name}.js`)], project, { STEPS: '3' }), `node out/${name}.js`));
  const all = outputs.join('\n');
  // What the README's blocks print: the SimCLR example's accuracy and embedding shape, the engine's tensor and schema.
  assert.match(all, /accuracy on all images: \d+\.\d%/);
  assert.match(all, /embeddings: \[24, 128\]/);
  assert.match(all, /aten::hardtanh\(Tensor self, Scalar min_val=-1, Scalar max_val=1\) -> Tensor/);
});
