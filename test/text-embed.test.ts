// Text encoders taken away: saveTextEncoder/loadTextEncoder round-trip exactly;
// `selfsup embed --text FILE` writes one row per document (its text in the path
// column) equal to the library's embedding; `selfsup similar` finds sentence
// neighbours for gallery rows and for new text (a document looked up finds itself).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setNumThreads } from '../src/tensor/index.js';
import { TransformerTextEncoder } from '../src/models/text-transformer.js';
import { BpeTokenizer } from '../src/data/text/bpe.js';
import { saveTextEncoder, loadTextEncoder, readEmbeddings } from '../src/io/index.js';
import { encodeTexts } from '../src/text/features.js';

setNumThreads(1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-text-embed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, SELFSUP_NUM_THREADS: '1' } });
const DOCS = ['the cat sat on the mat', 'a dog barked at the mailman', 'stocks fell sharply on monday', 'the kitten chased a ball of yarn', 'bond yields rose after the report', 'my dog sleeps all day'];

describe('text encoders on disk, embed --text, similar --query-text', () => {
  test('round trip, embed, sentence neighbours', () => {
    manualSeed(3);
    const tokenizer = BpeTokenizer.train(DOCS, { vocabSize: 80 });
    const encoder = new TransformerTextEncoder(tokenizer.size, { dModel: 16, heads: 2, layers: 1, dimFeedforward: 32, dropout: 0.1, maxLen: 16 });
    const encDir = join(dir, 'masked-lm-encoder');
    saveTextEncoder(encDir, encoder, tokenizer, { method: 'masked-lm', data: 'test sentences' });
    const loaded = loadTextEncoder(encDir);
    const want = encodeTexts(encoder, tokenizer, DOCS);
    const again = encodeTexts(loaded.encoder, loaded.tokenizer, DOCS);
    assert.deepEqual([...(again.data() as Float32Array)], [...(want.data() as Float32Array)]);

    const file = join(dir, 'docs.txt');
    writeFileSync(file, DOCS.join('\n') + '\n\n');
    const out = join(dir, 'docs.safetensors');
    const e = cli('embed', '--encoder', encDir, '--text', file, '--out', out, '--json');
    assert.equal(e.status, 0, e.stderr);
    const rows = readEmbeddings(out);
    assert.equal(rows.count, DOCS.length);
    assert.deepEqual(rows.paths, DOCS);
    assert.equal(rows.metadata.modality, 'text');
    const w = want.data() as Float32Array;
    assert.ok(Math.max(...Array.from(rows.embeddings, (v, i) => Math.abs(v - w[i]!))) < 1e-5);

    const s = cli('similar', '--embeddings', out, '--query-index', '0', '--query-text', DOCS[2]!, '--count', '3', '--json');
    assert.equal(s.status, 0, s.stderr);
    const r = JSON.parse(s.stdout.trim().split('\n').at(-1)!);
    assert.equal(r.results.length, 2);
    assert.ok(r.results[0].neighbors.every((n: { row: number }) => n.row !== 0), 'a row never finds itself');
    assert.equal(r.results[1].neighbors[0].text, DOCS[2], 'a document looked up finds itself first');
    assert.ok(Math.abs(r.results[1].neighbors[0].score - 1) < 1e-4);
    const html = cli('similar', '--embeddings', out, '--query-index', '0', '--html', join(dir, 'x.html'));
    assert.equal(html.status, 2);
    assert.match(html.stderr, /--html draws pictures/);
    want.dispose();
    again.dispose();
    encoder.dispose();
    loaded.encoder.dispose();
  });
});
