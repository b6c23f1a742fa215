// The page of `selfsup export --format web`: a person drops (or picks) an image, the
// page embeds it in the browser with onnxruntime-web and shows the most similar
// gallery images. Everything it needs is loaded with classic <script> tags (the
// runtime, its wasm, the model and the gallery as JS files), which browsers allow from
// file:// as well as from any static server: no fetch, no network, no build step.
// `index.html#selftest` embeds the first gallery image's own pixels and writes the
// embedding into the page, so a headless browser can check it against selfsup's.
import { escapeHtml } from './escape.js';
import { REPORT_CSS } from './style.js';
import { SIMILAR_CSS } from './similar-page.js';

export interface WebPageOptions {
  title: string;
  /** One line on the encoder and the gallery. */
  about: string;
  /** Neighbours shown per query. */
  count: number;
}

/** The script files the page loads, in order (written beside index.html). */
export const WEB_SCRIPTS = ['ort-bundle.js', 'ort-wasm.js', 'model.js', 'gallery.js'] as const;

const PAGE_SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
const bytesOf = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const G = window.SELFSUP_GALLERY;
const [C, H, W] = G.imageShape;
const rows = new Float32Array(bytesOf(G.embeddings).buffer);
let session = null;

async function start() {
  const url = URL.createObjectURL(new Blob([window.SELFSUP_ORT], { type: 'text/javascript' }));
  const ort = await import(url);
  // One thread: several need cross-origin isolation, which file:// pages cannot have.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmBinary = bytesOf(window.SELFSUP_WASM);
  session = await ort.InferenceSession.create(bytesOf(window.SELFSUP_MODEL));
  window.selfsupOrt = ort;
  $('status').textContent = 'Ready: drop an image here, or choose one.';
  if (location.hash === '#selftest') await selftest();
}

/** CHW floats in [0, 1] from a canvas drawn at the model's size (grey: the mean of R, G and B). */
function pixelsFromCanvas(canvas) {
  const d = canvas.getContext('2d').getImageData(0, 0, W, H).data;
  const x = new Float32Array(C * H * W);
  for (let i = 0; i < H * W; i++) {
    if (C === 1) x[i] = (0.2126 * d[4 * i] + 0.7152 * d[4 * i + 1] + 0.0722 * d[4 * i + 2]) / 255;
    else for (let c = 0; c < 3; c++) x[c * H * W + i] = d[4 * i + c] / 255;
  }
  return x;
}

async function embed(x) {
  const out = await session.run({ [G.input]: new window.selfsupOrt.Tensor('float32', x, [1, C, H, W]) });
  return out[G.output].data;
}

function nearest(q) {
  const D = G.dim;
  let qn = 0;
  for (let j = 0; j < D; j++) qn += q[j] * q[j];
  qn = Math.sqrt(qn) || 1;
  const scores = G.items.map((_, i) => {
    let dot = 0, n = 0;
    for (let j = 0; j < D; j++) { const v = rows[i * D + j]; dot += v * q[j]; n += v * v; }
    return { i, s: dot / (qn * (Math.sqrt(n) || 1)) };
  });
  return scores.sort((a, b) => b.s - a.s).slice(0, G.count);
}

function show(querySrc, caption, q) {
  const fig = (src, cap, cls, extra) => '<figure class="' + cls + '"><img src="' + src + '" alt=""><figcaption>' + extra + cap + '</figcaption></figure>';
  const esc = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const best = nearest(q);
  $('results').innerHTML = '<div class="sim-row">' + fig(querySrc, esc(caption), 'query', '<strong>query</strong><br>') +
    best.map((b) => fig(G.items[b.i].thumb, esc(G.items[b.i].caption), 'neighbor', '<span class="score">' + b.s.toFixed(3) + '</span><br>')).join('') + '</div>';
}

async function fromFile(file) {
  const img = new Image();
  img.src = URL.createObjectURL(file);
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  canvas.getContext('2d').drawImage(img, 0, 0, W, H);
  const q = await embed(pixelsFromCanvas(canvas));
  show(img.src, file.name, q);
}

async function selftest() {
  const raw = bytesOf(G.selftestPixels);
  const x = Float32Array.from(raw, (v) => v / 255);
  const q = await embed(x);
  $('selftest').textContent = JSON.stringify(Array.from(q));
  show(G.items[0].thumb, G.items[0].caption + ' (self-test)', q);
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) fromFile(e.dataTransfer.files[0]).catch(fail); });
$('pick').addEventListener('change', (e) => { if (e.target.files[0]) fromFile(e.target.files[0]).catch(fail); });
function fail(e) { $('status').textContent = 'Error: ' + (e && e.message ? e.message : e); }
start().catch(fail);
`;

const PAGE_CSS = `
#drop { border: 2px dashed #9ca3af; border-radius: 12px; padding: 28px; text-align: center; color: #4b5563; background: #fafbfc; }
#drop.over { border-color: #2563eb; background: #eff6ff; }
#selftest { display: none; }
`;

/** index.html of the web export. */
export function renderWebPage(o: WebPageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title><style>${REPORT_CSS}${SIMILAR_CSS}${PAGE_CSS}</style></head>
<body><main><header><h1>${escapeHtml(o.title)}</h1><p class="meta">${escapeHtml(o.about)}</p></header>
<section><div id="drop"><p id="status">Loading the model (onnxruntime-web, in this page) ...</p>
<input type="file" id="pick" accept="image/*"></div></section>
<section><h2>Most similar gallery images (cosine similarity of the embeddings, computed in your browser)</h2><div id="results"></div></section>
<pre id="selftest"></pre>
</main>
${WEB_SCRIPTS.map((s) => `<script src="${s}"></script>`).join('\n')}
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
