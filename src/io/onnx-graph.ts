// A small builder for ONNX graphs on top of `onnx-proto` (ONNX's own onnx.proto,
// compiled by protobufjs): named values, initializers from tensors, nodes with typed
// attributes, and the model's serialisation. The module exporters (onnx.ts) use it.
import onnxProto from 'onnx-proto';
import type { Tensor } from '../tensor/index.js';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type Attribute = InstanceType<typeof onnx.AttributeProto>;
const A = onnx.AttributeProto.AttributeType;

/** A typed attribute value: ONNX tells INT from FLOAT, so numbers are tagged. */
export type AttributeValue =
  | { int: number } | { ints: readonly number[] } | { float: number } | { floats: readonly number[] } | { string: string };

export const int = (v: number): AttributeValue => ({ int: v });
export const ints = (v: readonly number[]): AttributeValue => ({ ints: v });
export const float = (v: number): AttributeValue => ({ float: v });
export const floats = (v: readonly number[]): AttributeValue => ({ floats: v });

function attribute(name: string, v: AttributeValue): Attribute {
  if ('int' in v) return onnx.AttributeProto.create({ name, type: A.INT, i: v.int });
  if ('ints' in v) return onnx.AttributeProto.create({ name, type: A.INTS, ints: [...v.ints] });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: [...v.floats] });
  return onnx.AttributeProto.create({ name, type: A.STRING, s: Buffer.from(v.string, 'utf8') });
}

/** A graph under construction: every value has a unique name; nodes are kept in order. */
// Its nodes and initializers are private, so that onnx-proto's types stay out of the public declarations.
export class OnnxGraph {
  readonly #nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly #initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly #used = new Set<string>();
  #counter = 0;

  /** A fresh value name starting with `hint`. */
  name(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.]/g, '_') || 'v';
    let n = base;
    while (this.#used.has(n)) n = `${base}_${++this.#counter}`;
    this.#used.add(n);
    return n;
  }

  /** A float32 constant (weights, means, shapes of float ops) in the graph's initializers. */
  constant(hint: string, values: Float32Array | readonly number[], dims: readonly number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new RangeError(`OnnxGraph.constant(${hint}): ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.name(hint);
    this.#initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    }));
    return name;
  }

  /** An int64 constant (shapes, axes). */
  int64s(hint: string, values: readonly number[]): string {
    const name = this.name(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.#initializers.push(onnx.TensorProto.create({
      name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer).slice(),
    }));
    return name;
  }

  /** A parameter or buffer of the module tree as a float32 initializer (read on the CPU). */
  tensor(hint: string, t: Tensor): string {
    const cpu = t.dtype === 'float32' && t.device === 'cpu' ? null : t.to('cpu').to('float32');
    try {
      const src = cpu ?? t;
      return this.constant(hint, src.data() as Float32Array, src.shape);
    } finally {
      cpu?.dispose();
    }
  }

  /** Appends a node; returns its output's name (`output` when given: a name already taken with `name`). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, outputHint = opType.toLowerCase(), output?: string): string {
    const out = output ?? this.name(outputHint);
    this.#nodes.push(onnx.NodeProto.create({
      opType, input: [...inputs], output: [out], name: this.name(`${opType}_node`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    }));
    return out;
  }

  /** The finished model as ONNX bytes. */
  serialize(o: ModelOptions): Uint8Array {
    const model: ModelProto = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'selfsup',
      producerVersion: o.producerVersion,
      docString: o.docString ?? '',
      opsetImport: [{ domain: '', version: o.opset }],
      metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
      graph: onnx.GraphProto.create({
        name: o.graphName,
        node: this.#nodes,
        initializer: this.#initializers,
        input: [valueInfo(o.input)],
        output: [valueInfo(o.output)],
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

export interface GraphIo {
  name: string;
  /** Sizes; a string is a symbolic (dynamic) dimension such as 'batch'. */
  shape: readonly (number | string)[];
}

function valueInfo(io: GraphIo): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name: io.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: io.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
        }),
      }),
    }),
  });
}

export interface ModelOptions {
  graphName: string;
  input: GraphIo;
  output: GraphIo;
  opset: number;
  producerVersion: string;
  metadata: Record<string, string>;
  docString?: string;
}

/** The finished model as ONNX bytes. */
export function serializeModel(g: OnnxGraph, o: ModelOptions): Uint8Array {
  return g.serialize(o);
}

/** The metadata and input/output names of ONNX bytes (for checks and `selfsup export`'s summary). */
export function readModelInfo(bytes: Uint8Array): { metadata: Record<string, string>; inputs: string[]; outputs: string[]; opset: number; nodes: string[] } {
  const m = onnx.ModelProto.decode(bytes);
  const names = (xs: readonly { name?: string | null }[] | null | undefined): string[] => (xs ?? []).map((i) => i.name ?? '');
  return {
    metadata: Object.fromEntries(m.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: names(m.graph?.input),
    outputs: names(m.graph?.output),
    opset: Number(m.opsetImport[0]?.version ?? 0),
    nodes: (m.graph?.node ?? []).map((n) => n.opType ?? ''),
  };
}
