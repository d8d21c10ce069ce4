import { IR_VERSION, OPSET, onnx, type OnnxTypes } from './proto.js';

/** A dimension of a graph input or output: a size, or a name for one chosen at run time (e.g. 'batch'). */
export type Dim = number | string;

/** An attribute value of a node, typed the way ONNX stores it. */
export type Attribute = { int: number } | { ints: number[] } | { float: number } | { floats: number[] } | { string: string };

export const int = (value: number): Attribute => ({ int: value });
export const ints = (value: number[]): Attribute => ({ ints: value });
export const float = (value: number): Attribute => ({ float: value });

const { AttributeType } = onnx.AttributeProto;
const { DataType } = onnx.TensorProto;

function attributeProto(name: string, a: Attribute): OnnxTypes.IAttributeProto {
  if ('int' in a) return { name, type: AttributeType.INT, i: a.int };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  if ('float' in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: a.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.string) };
}

interface Initializer {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

function valueInfo(name: string, dims: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Builds one ONNX graph: float32 inputs and outputs, nodes with unique value names, and initializers whose float
 * data stays editable until the graph is written (so a batch norm can be folded into the convolution before it).
 * Exporters append to a builder; composing models is appending one after another to the same builder.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly reserved = new Set<string>();

  constructor(readonly graphName = 'graph') {}

  /** A value name not used before in this graph, from `base` (sanitised; `base_1`, `base_2`... on a clash). */
  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'value';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Keep `name` free for a graph output declared later (nodes emitted before then get other names). */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`graph value name "${name}" is already used`);
    this.used.add(name);
    this.reserved.add(name);
  }

  /** Declare a float32 graph input; returns its value name (exactly `name`, which must be free). */
  input(name: string, dims: readonly Dim[]): string {
    if (this.used.has(name)) throw new Error(`graph value name "${name}" is already used`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Declare `value` as a float32 graph output called `name` (an Identity node renames it when needed). */
  output(value: string, name: string, dims: readonly Dim[]): void {
    if (value !== name) {
      if (this.reserved.has(name)) this.reserved.delete(name);
      else if (this.used.has(name)) throw new Error(`graph value name "${name}" is already used`);
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}/identity` });
    }
    this.outputs.push(valueInfo(name, dims));
  }

  /** Append a node with one output; returns the output's value name (from `base`, default the op type). */
  node(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, base: string = opType): string {
    return this.nodeWithOutputs(opType, inputs, 1, attributes, base)[0];
  }

  /** Append a node with `count` outputs; returns their value names. */
  nodeWithOutputs(opType: string, inputs: string[], count: number, attributes: Record<string, Attribute> = {}, base: string = opType): string[] {
    const outputs = Array.from({ length: count }, (_, i) => this.uniqueName(count === 1 ? base : `${base}:${i}`));
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: this.uniqueName(`${base}/node`),
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return outputs;
  }

  /** A float32 constant (initializer); the array is kept, not copied, and may be edited until `toBytes`. */
  floatConstant(base: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`constant ${base}: ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.uniqueName(base);
    this.initializers.set(name, { dims, data });
    return name;
  }

  /** An int64 constant (shapes, axes, slice bounds). */
  int64Constant(base: string, values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  /** A float scalar constant. */
  scalar(base: string, value: number): string {
    return this.floatConstant(base, Float32Array.of(value), []);
  }

  /** The (editable) data of a float32 initializer, or undefined. */
  floatData(name: string): Float32Array | undefined {
    const init = this.initializers.get(name);
    return init?.data instanceof Float32Array ? init.data : undefined;
  }

  /** The node that produced `value`, if a node of this graph did. */
  producerOf(value: string): OnnxTypes.INodeProto | undefined {
    return this.nodes.find((n) => n.output?.includes(value));
  }

  /** The graph as an ONNX ModelProto. */
  toModelProto(docString = ''): OnnxTypes.IModelProto {
    const initializer: OnnxTypes.ITensorProto[] = [...this.initializers].map(([name, init]) => ({
      name,
      dims: init.dims,
      dataType: init.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64,
      rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
    }));
    return {
      irVersion: IR_VERSION,
      producerName: 'areyouacat',
      opsetImport: [{ domain: '', version: OPSET }],
      docString,
      graph: { name: this.graphName, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    };
  }

  /** The serialised ONNX model. */
  toBytes(docString = ''): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto(docString))).finish();
  }
}
