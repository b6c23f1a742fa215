// The similar-images page: one row per query, the query's picture first, then its
// nearest gallery images with their cosine similarity and label. Self-contained HTML
// (pictures inlined as data URIs), styled like the report; the experiment report uses
// the same grid for its best method.
import { escapeHtml } from './escape.js';
import { REPORT_CSS } from './style.js';

export interface Picture {
  /** A data: URI (PNG, JPEG). */
  src: string;
  /** What the picture is: its file, index or label. */
  caption: string;
}

export interface SimilarRow {
  query: Picture;
  neighbors: (Picture & { score: number })[];
}

export const SIMILAR_CSS = `
.sim-row { display: flex; align-items: flex-start; gap: 10px; padding: 12px 0; border-bottom: 1px solid #eef0f3; overflow-x: auto; }
.sim-row figure { margin: 0; width: 96px; text-align: center; font-size: 12px; color: #4b5563; flex: none; }
.sim-row figure.query { width: 112px; }
.sim-row img { display: block; margin: 0 auto; border-radius: 4px; image-rendering: pixelated; background: #fff; max-width: 96px; max-height: 96px; }
.sim-row figure.query { padding-right: 12px; margin-right: 4px; border-right: 3px solid #2563eb; }
.sim-row figcaption { overflow-wrap: anywhere; }
.sim-row .score { font-variant-numeric: tabular-nums; color: #111827; font-weight: 600; }
`;

/** The grid alone, for embedding in another page. */
export function similarGrid(rows: readonly SimilarRow[]): string {
  const fig = (p: Picture, cls: string, extra = ''): string =>
    `<figure class="${cls}"><img src="${p.src}" alt="${escapeHtml(p.caption)}"><figcaption>${extra}${escapeHtml(p.caption)}</figcaption></figure>`;
  return rows.map((r, i) => `<div class="sim-row" id="query-${i}">` +
    fig(r.query, 'query', '<strong>query</strong><br>') +
    r.neighbors.map((n) => fig(n, 'neighbor', `<span class="score">${n.score.toFixed(3)}</span><br>`)).join('') +
    '</div>').join('\n');
}

/** A whole page: title, a line on how it was made, and the grid. */
export function renderSimilarPage(title: string, about: string, rows: readonly SimilarRow[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}${SIMILAR_CSS}</style></head>
<body><main><header><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(about)}</p></header>
<section id="similar"><h2>Nearest images by cosine similarity</h2>
${similarGrid(rows)}
</section></main></body></html>
`;
}
