// The page's only stylesheet, inlined into report.html.
export const REPORT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2937;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 40px 28px 56px; }
header h1 { font-size: 30px; line-height: 1.2; margin: 0 0 6px; letter-spacing: -0.01em; }
.meta { color: #6b7280; margin: 0; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #c0c4cc; }
nav { margin: 16px 0 0; display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 14px; }
nav a { color: #2563eb; text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 22px 26px; margin: 22px 0;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }
h2 { font-size: 19px; margin: 0 0 14px; }
h3 { font-size: 15px; margin: 22px 0 8px; color: #374151; }
p { margin: 0 0 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #e5e7eb; border-radius: 10px; padding: 10px 16px; min-width: 150px; background: #fafbfc; }
.card .label { font-size: 12px; color: #6b7280; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px; }
th { text-align: left; font-weight: 600; color: #374151; border-bottom: 2px solid #e5e7eb; padding: 7px 14px; white-space: nowrap; }
td { padding: 6px 14px; border-bottom: 1px solid #f0f1f4; vertical-align: top; }
td.num, th.num { text-align: right; }
tr.group-start td { border-top: 1px solid #d9dce1; }
td.best { font-weight: 700; }
.table-wrap { overflow-x: auto; margin-bottom: 6px; }
.table-note { font-size: 13px; color: #6b7280; }
figure.chart { margin: 18px 0 6px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #4b5563; font-size: 14px; max-width: 75ch; margin-top: 6px; }
.error { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.grid-summary { color: #374151; }
.rot-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(108px, 1fr)); gap: 10px; }
.rot { margin: 0; padding: 6px 4px 4px; border: 3px solid; border-radius: 8px; text-align: center; font-size: 12px; line-height: 1.35; }
.rot.ok { border-color: #16a34a; background: #f0fdf4; }
.rot.wrong { border-color: #dc2626; background: #fef2f2; }
.rot img { display: block; margin: 0 auto 4px; max-width: 100%; height: auto; image-rendering: pixelated; }
.rot .mark { font-weight: 700; }
.mae-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
.mae { margin: 0; padding: 6px 4px 4px; border: 1px solid #d1d5db; border-radius: 8px; text-align: center; font-size: 12px; }
.mae img { display: inline-block; margin: 0 2px 4px; image-rendering: pixelated; }
.rot.ok .mark { color: #15803d; }
.rot.wrong .mark { color: #b91c1c; }
ul.notes { margin: 0; padding-left: 20px; }
ul.notes li { margin: 4px 0; }
table.config td:first-child { color: #374151; white-space: nowrap; }
table.config td:last-child { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; word-break: break-word; }
footer { color: #9ca3af; font-size: 13px; text-align: center; margin-top: 28px; }
@media print { body { background: #fff; } section { box-shadow: none; break-inside: avoid; } }
`;
