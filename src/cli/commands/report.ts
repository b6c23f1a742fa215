// selfsup report DIR: draws the HTML report again from what experiment or demo saved.
import { writeReport } from '../../report/index.js';
import type { Args } from '../options.js';
import type { Output } from '../output.js';
import { loadReportData } from '../report-data.js';

export async function run(args: Args, out: Output): Promise<void> {
  const dir = args.positionals[0]!;
  const outDir = args.string('out') ?? dir;
  const { data, source, complete } = loadReportData(dir);
  if (!complete) out.note(`${source}: no report-data.json, so the report has no rotation grid or embedding maps`);
  const written = await writeReport(outDir, data);
  out.say(`report: ${written.html} (from ${source})`);
  out.result({ command: 'report', ok: true, reportPath: written.html, resultsPath: written.json, pngs: written.pngs, source, complete, results: data.results });
}
