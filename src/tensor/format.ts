// Human-readable tensors, in PyTorch's print style.
import type { DType } from './dtype.js';

const SUMMARIZE_ABOVE = 1000;
const EDGE_ITEMS = 3;

function formatNumber(v: number, dtype: DType, sci: boolean): string {
  if (dtype === 'bool') return v ? 'True' : 'False';
  if (!(dtype.startsWith('float') || dtype === 'bfloat16')) return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  // PyTorch writes two-digit exponents: 1.0000e-06.
  return sci ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : v.toFixed(4);
}

/** Formats row-major `values` of the given shape like `tensor([[1., 2.], ...])`. */
export function formatTensor(shape: number[], dtype: DType, device: string, values: number[], requiresGrad: boolean): string {
  const summarize = values.length > SUMMARIZE_ABOVE;
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  const sci = finite.length > 0 && (Math.max(...finite.slice(0, 10000)) >= 1e8 || Math.min(...finite.slice(0, 10000)) < 1e-4);
  const strides: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const cells: string[] = values.map((v) => formatNumber(v, dtype, sci));
  const width = Math.max(1, ...cells.slice(0, 5000).map((c) => c.length));
  const indent = 'tensor('.length;

  const render = (dim: number, offset: number): string => {
    if (dim === shape.length) return cells[offset]!.padStart(width);
    const n = shape[dim]!;
    const idx: (number | null)[] = [];
    if (summarize && n > 2 * EDGE_ITEMS) {
      for (let i = 0; i < EDGE_ITEMS; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE_ITEMS; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]!)));
    const last = dim === shape.length - 1;
    const sep = last ? ', ' : ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + dim + 1);
    return '[' + parts.join(sep) + ']';
  };

  const body = shape.length === 0 ? cells[0]! : render(0, 0);
  const extras: string[] = [];
  if (device !== 'cpu') extras.push(`device='${device}'`);
  if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') extras.push(`dtype=${dtype}`);
  if (values.length === 0) extras.push(`size=[${shape.join(', ')}]`);
  if (requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}
