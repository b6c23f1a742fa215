// selfsup experiment: the label-efficiency experiment, images by default, text
// with --modality text (runTextExperiment from src/experiment/text.ts). Either way,
// Ctrl-C writes the results so far, marked partial, and exits with 130.
import { joinJob } from '../distributed.js';
import { existsSync, readFileSync } from 'node:fs';
import { writeReport, type MethodResult, type ReportData } from '../../report/index.js';
import type { ImageExperimentConfig } from '../../experiment/image.js';
import { IMAGE_PRESETS, presetNames } from '../../experiment/presets.js';
import { BACKBONE_NAMES } from '../commands.js';
import { BASELINES, PROTOCOLS, expandMethods, experimentMethodNames, parseMethod, type Protocol } from '../../experiment/protocols.js';
import { methodNames, checkMethodBackbone } from '../../ssl/catalog.js';
import { loadData } from '../data.js';
import { InterruptedError, UsageError } from '../errors.js';
import { runImageCommand, quickImageConfig, QUICK_LIMITS } from '../image-run.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { saveReportData } from '../report-data.js';
import { dataLimits, frozenBlocks, pretrainLimits } from '../settings.js';
import { closest } from '../options.js';
import { backboneBlocks } from '../../io/encoder-files.js';
import { deviceOption, usableDevice } from '../device.js';
import { resultsTable } from '../table.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Settings the image configuration may hold that its defaults leave out. */
const OPTIONAL_SETTINGS = ['width', 'testLimit', 'block', 'maxSteps', 'timeBudgetSeconds', 'warmupSteps', 'weightDecay', 'momentum', 'crop', 'flip', 'stepsPerK', 'lrScale',
  'seedsPerK', 'options', 'monitorPoints', 'blockProbe', ...methodNames('image')];
/**
 * Settings the text configuration may hold that its defaults leave out: masked-LM options
 * that are off by default, and any pretraining's time budget (its budget is in steps).
 */
export const TEXT_OPTIONAL_SETTINGS = ['maskFrequencyThreshold', 'embeddingWeightDecay', 'timeBudgetSeconds', 'embeddingLrScale'];
/** Settings whose keys are data (k values, parameter prefixes): replaced whole, not checked key by key. */
const FREE_FORM = ['stepsPerK', 'lrScale', 'seedsPerK', 'options'];

/** `over` merged into `base` key by key; nested objects merge, everything else replaces. Unknown keys are errors. */
export function mergeConfig(base: Json, over: Json, where: string, optionalKeys: readonly string[] = []): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (!(key in base) && !optionalKeys.includes(key)) {
      const hint = closest(key, [...Object.keys(base), ...optionalKeys]);
      throw new UsageError(`${where}: unknown setting '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; known here: ${Object.keys(base).join(', ')}`);
    }
    const nested = isObject(base[key]) && isObject(value) && !FREE_FORM.includes(key);
    out[key] = nested ? mergeConfig(base[key] as Json, value, `${where}.${key}`, optionalKeys) : value;
  }
  return out;
}

function readConfigFile(path: string): Json {
  if (!existsSync(path)) throw new Error(`config file not found: ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new Error(`${path} must hold a JSON object`);
  return parsed;
}

/**
 * --methods items are baselines, methods (each under every --protocols) or METHOD-PROTOCOL pairs;
 * with --protocols alone, the configured methods' pretexts get those protocols. Scratch joins
 * when no baseline is named, since every comparison is against it.
 */
export function experimentMethods(args: Args, configured: readonly string[]): string[] {
  const protocols = args.has('protocols') ? args.choices('protocols', PROTOCOLS)! as Protocol[] : (['finetune', 'probe', 'knn'] as Protocol[]);
  const items = args.has('methods')
    ? args.choices('methods', [...new Set([...methodNames('image'), ...experimentMethodNames()])])!
    : [...new Set(configured.map((m) => (BASELINES as readonly string[]).includes(m) ? m : m.slice(0, m.lastIndexOf('-'))))];
  const out = items.flatMap((item) => (methodNames('image').includes(item) ? expandMethods([item], protocols) : [item]));
  if (!out.some((m) => (BASELINES as readonly string[]).includes(m))) out.unshift('scratch');
  return [...new Set(out)];
}

async function runImage(args: Args, cliOut: Output, outDir: string, file: Json | null): Promise<void> {
  const quick = args.flag('quick');
  const preset = args.has('preset') ? args.choice('preset', presetNames())! : 'default';
  if (quick && args.has('preset')) throw new UsageError('--quick and --preset: choose one (--quick is its own tiny preset)');
  const base = (quick ? quickImageConfig() : IMAGE_PRESETS[preset]!.config()) as unknown as Json;
  const c = (file ? mergeConfig(base, file, args.string('config')!, OPTIONAL_SETTINGS) : base) as unknown as ImageExperimentConfig;
  // Checked before any data is read; --device wins over the config file's.
  c.device = args.has('device') ? deviceOption(args) : usableDevice(c.device, `${args.string('config')}: device`);
  // Data-parallel (under `selfsup launch` or --nproc): rank 0 speaks and writes.
  const job = await joinJob(c.device ?? 'cpu', cliOut);
  const out = job.out;
  c.device = job.device;
  if (args.has('backbone')) c.backbone = args.choice('backbone', BACKBONE_NAMES)!;
  if (args.has('width')) c.width = args.int('width', { min: 1 });
  if (args.has('ks')) c.ks = args.intList('ks', { min: 1 })!;
  if (args.has('seeds')) c.seeds = args.intList('seeds')!;
  if (args.has('methods') || args.has('protocols')) c.methods = experimentMethods(args, c.methods);
  if (args.has('epochs')) {
    const epochs = args.int('epochs', { min: 1 })!;
    for (const s of [c.pretrain, ...Object.values(c.methodPretrain ?? {})]) s.epochs = epochs;
  }
  const pretrainLimit = pretrainLimits(args, c);
  if (args.has('head')) c.finetune.head = c.scratch.head = args.choice('head', ['linear', 'mlp'] as const)!;
  for (const m of c.methods) {
    const pretext = parseMethod(m).pretext;
    if (!pretext) continue;
    try {
      checkMethodBackbone(pretext, c.backbone);
    } catch (err) {
      throw new UsageError(`--methods ${m}: ${(err as Error).message}`);
    }
  }

  const sourceSpec = args.string('source')!;
  if (c.methods.includes('transfer') && sourceSpec === 'none') {
    throw new UsageError("--source none leaves the transfer method without a source; drop transfer from --methods or name a source");
  }
  const limits = dataLimits(args);
  if (quick) {
    limits.limit ??= QUICK_LIMITS.train;
    limits.testLimit ??= QUICK_LIMITS.test;
  }
  const data = await loadData(args.string('data')!, { ...limits, needTest: true, needLabels: true });
  if (args.has('freeze')) c.finetune.freeze = frozenBlocks(args, backboneBlocks(c.backbone, data.train.imageShape[0], c.width), []);
  if (!data.mirrorSafe && !file) {
    // Mirrored digits are other digits (or none), and a folder's classes may not survive a mirror either: no flips.
    for (const a of [c.pretrain.augment, c.finetune.augment, c.scratch.augment, c.transfer.augment]) a.flip = false;
  }
  let source;
  if (c.methods.includes('transfer')) {
    source = (await loadData(sourceSpec, { option: 'source', needLabels: true, limit: quick ? QUICK_LIMITS.source : undefined })).train;
    const [a, b] = [source.imageShape.join('x'), data.train.imageShape.join('x')];
    if (a !== b) throw new Error(`--source ${sourceSpec} has ${a} images but --data ${data.spec.text} has ${b}; transfer needs the same image size`);
  }
  await runImageCommand('experiment', { name: data.train.name.split('/')[0]!, train: data.train, test: data.test!, source }, c, outDir, data.spec.text, job.out, pretrainLimit, job);
}

function looksLikeReport(v: unknown): v is ReportData {
  return isObject(v) && Array.isArray(v.results) && typeof v.title === 'string';
}

/**
 * The text experiment's tables: one per task (the glosses, fortunes, the user's own),
 * not the headline task alone; '' when nothing finished.
 */
export function textResultTables(headline: readonly MethodResult[], tasks: readonly unknown[] | undefined, dataset: string | undefined): string {
  const withResults = (tasks ?? []).filter((t): t is { task: string; testSize?: number; results: MethodResult[] } =>
    isObject(t) && typeof t.task === 'string' && Array.isArray(t.results) && t.results.length > 0);
  const tables = withResults.length
    ? withResults.map((t) => ({ title: `${t.task}${typeof t.testSize === 'number' ? ` (${t.testSize} test documents)` : ''}`, results: t.results }))
    : headline.length ? [{ title: dataset ?? '', results: headline }] : [];
  return tables.map((t) => `Test accuracy${t.title ? ` on ${t.title}` : ''}, mean ± std over seeds:\n${resultsTable(t.results)}`).join('\n\n');
}

/**
 * After Ctrl-C the text experiment returns what finished (interrupted: true); the
 * files are written as usual, marked partial, and the command exits with 130.
 */
async function runText(args: Args, out: Output, outDir: string, file: Json | null): Promise<void> {
  for (const option of ['data', 'source', 'limit', 'test-limit', 'image-size', 'backbone', 'width', 'protocols', 'preset', 'pretrain-steps', 'epochs', 'freeze', 'head']) {
    if (args.has(option)) throw new UsageError(`--${option} is for image experiments; set text settings with --config FILE`);
  }
  if (args.has('device') && args.string('device') !== 'cpu') throw new UsageError(`--device ${args.string('device')}: the text experiment runs on the cpu only`);
  const text = await import('../../experiment/text.js');
  const started = performance.now();
  let config = (args.flag('quick') ? text.quickTextConfig() : text.defaultTextConfig()) as unknown as Json;
  if (file) config = mergeConfig(config, file, args.string('config')!, TEXT_OPTIONAL_SETTINGS);
  if (args.has('seeds')) config = { ...config, seeds: args.intList('seeds')! };
  if (args.has('ks')) config = { ...config, ks: args.intList('ks', { min: 1 })! };
  if (args.has('methods')) {
    // Registered text methods (each under its protocols) or the experiment's own names; bow-scratch always joins.
    const items = args.choices('methods', [...Object.keys(text.TEXT_PRETEXT_PROTOCOLS), ...text.TEXT_METHODS])!;
    config = { ...config, methods: text.expandTextMethods(items) };
  }
  if (args.has('minutes')) {
    // A time budget for the masked LM instead of its step budget (0: neither, its epochs bound it).
    // Runs under a time budget do not repeat exactly on a busier machine.
    const seconds = (args.number('minutes', { min: 0 }) ?? 0) * 60;
    config = { ...config, mlm: { ...(isObject(config.mlm) ? config.mlm : {}), maxSteps: undefined, timeBudgetSeconds: seconds || undefined } };
  }
  // Ctrl-C: the experiment stops after the run it interrupts and returns what finished.
  const r: unknown = await text.runTextExperiment(config as never, outDir, (line) => out.note(line));
  const result = isObject(r) ? r : {};
  const report = looksLikeReport(result.report) ? result.report : looksLikeReport(result) ? result : null;
  const results = (Array.isArray(result.results) ? result.results : report?.results ?? []) as MethodResult[];
  let written: { html: string; json: string } | null = null;
  let reportDataPath: string | null = null;
  if (report) {
    reportDataPath = saveReportData(outDir, report);
    written = await writeReport(outDir, report);
  }
  const interrupted = result.interrupted === true;
  const runsDone = `${result.runsDone} of ${result.runsPlanned} runs`;
  if (interrupted) out.say(`PARTIAL RESULTS: interrupted after ${runsDone}; only the runs that finished are counted.`);
  const tasks = Array.isArray(result.tasks) ? result.tasks : undefined;
  const tables = textResultTables(results, tasks, report?.dataset);
  if (tables) out.say(tables);
  if (written) out.say(`report: ${written.html}`);
  // Headline numbers the text experiment returns (e.g. a synonym AUC) go into the JSON as they are.
  const headline = Object.fromEntries(Object.entries(result).filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'));
  const json = {
    ...headline, command: 'experiment', ok: true, modality: 'text', results, tasks, reportPath: written?.html ?? null, resultsPath: written?.json ?? null,
    reportDataPath, outDir, seconds: (performance.now() - started) / 1000,
  };
  if (interrupted) {
    const where = written ? `the partial results are in ${written.json} (marked "partial": true) and ${written.html}` : 'no results were written';
    const checkpoint = typeof result.pretrainCheckpoint === 'string' ? `; pretraining was interrupted, its checkpoint is ${result.pretrainCheckpoint}` : '';
    throw new InterruptedError(`interrupted after ${runsDone}; ${where}${checkpoint}`, { ...json, partial: true });
  }
  out.result(json);
}

export async function run(args: Args, out: Output): Promise<void> {
  const modality = args.choice('modality', ['image', 'text'] as const)!;
  const nproc = args.int('nproc', { min: 1 })!;
  if (nproc > 1 && process.env.WORLD_SIZE === undefined) {
    if (modality === 'text') throw new UsageError('--nproc: only the image experiment pretrains data-parallel');
    const { relaunch } = await import('./launch.js');
    return relaunch(nproc, process.argv.slice(2));
  }
  const outDir = args.string('out') ?? `runs/${modality}`;
  const file = args.has('config') ? readConfigFile(args.string('config')!) : null;
  if (modality === 'text') await runText(args, out, outDir, file);
  else await runImage(args, out, outDir, file);
}
