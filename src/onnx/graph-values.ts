import { OnnxExportError, UnsupportedOnnxOpError } from './errors.js';
import type { OnnxGraphBuilder } from './graph-builder.js';
import { NHWC_TO_NCHW, type TensorValue } from './values.js';

/**
 * What the graph-model exporter (graph-export.ts) knows while it walks a TensorFlow.js graph model: its nodes as the
 * converter wrote them, the values flowing between them, and readers of the nodes' attributes.
 */

/** A node of a tfjs graph model's `modelTopology.node` (a TensorFlow NodeDef in JSON). */
export interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, GraphAttr>;
}

/** An attribute value as the tfjs converter writes it (int64 as strings, strings base64). */
export interface GraphAttr {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  list?: { i?: (string | number)[]; f?: number[]; s?: string[]; b?: boolean[] };
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  tensor?: unknown;
}

/** A shape in TensorFlow order (NHWC for images), null where the size is chosen at run time. */
export type Shape = (number | null)[];

/** A constant of the graph (a weight): its data as tfjs decodes it, in TensorFlow order. */
export interface ConstValue {
  kind: 'const';
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A float32 value computed by the ONNX graph, with its shape (TensorFlow order) at the reference input size. */
export interface ComputedValue {
  kind: 'tensor';
  value: TensorValue;
  shape: Shape;
}

export type GraphValue = ConstValue | ComputedValue;

/** What an op emitter knows besides its node and inputs. */
export interface GraphEmitContext {
  b: OnnxGraphBuilder;
  node: GraphNodeDef;
  /**
   * Height and width chosen at run time: "SAME" padding as SAME_UPPER (TensorFlow's rule at any size) instead of
   * pads computed from the reference shape.
   */
  dynamicSize: boolean;
  /**
   * With `dynamicSize`: a resize to a constant size is written as a resize by the integer factor between that size
   * and its input at the reference shape (for graphs whose resize targets are rewritten per input size).
   */
  proportionalResize: boolean;
}

/** Emits one node: its inputs' values in, its outputs' values out (in output order). */
export type GraphOpEmitter = (inputs: GraphValue[], ctx: GraphEmitContext) => GraphValue[];

const where = (node: GraphNodeDef) => `node "${node.name}"`;

/** An UnsupportedOnnxOpError about `what` (e.g. an attribute value) of this node's op. */
export function unsupported(node: GraphNodeDef, what?: string): UnsupportedOnnxOpError {
  return new UnsupportedOnnxOpError(what ? `${node.op} with ${what}` : `op ${node.op}`, where(node));
}

function attr(node: GraphNodeDef, key: string): GraphAttr | undefined {
  return node.attr?.[key];
}

export function attrString(node: GraphNodeDef, key: string, fallback?: string): string {
  const a = attr(node, key);
  if (a?.s !== undefined) return Buffer.from(a.s, 'base64').toString('utf8');
  if (fallback !== undefined) return fallback;
  throw new OnnxExportError(`${where(node)} (${node.op}) has no string attribute "${key}"`);
}

export function attrStrings(node: GraphNodeDef, key: string): string[] {
  return (attr(node, key)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrInt(node: GraphNodeDef, key: string, fallback?: number): number {
  const a = attr(node, key);
  if (a?.i !== undefined) return Number(a.i);
  if (fallback !== undefined) return fallback;
  throw new OnnxExportError(`${where(node)} (${node.op}) has no int attribute "${key}"`);
}

export function attrInts(node: GraphNodeDef, key: string, fallback?: number[]): number[] {
  const list = attr(node, key)?.list?.i;
  if (list && list.length) return list.map(Number);
  if (fallback !== undefined) return fallback;
  throw new OnnxExportError(`${where(node)} (${node.op}) has no int list attribute "${key}"`);
}

export function attrBool(node: GraphNodeDef, key: string, fallback: boolean): boolean {
  return attr(node, key)?.b ?? fallback;
}

export function attrFloat(node: GraphNodeDef, key: string, fallback: number): number {
  return attr(node, key)?.f ?? fallback;
}

/** Images must be NHWC, as TensorFlow.js runs them. */
export function checkNhwc(node: GraphNodeDef): void {
  const format = attrString(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw unsupported(node, `data_format ${format}`);
}

/** The computed value of input `i`. A constant there (a whole graph folded to constants) is not exported. */
export function computed(inputs: GraphValue[], i: number, node: GraphNodeDef): ComputedValue {
  const v = inputs[i];
  if (!v) throw new OnnxExportError(`${where(node)} (${node.op}) has no input ${i}`);
  if (v.kind !== 'tensor') throw unsupported(node, `a constant as input ${i}`);
  return v;
}

/** The constant of input `i` (a filter, an axis, a size): an op computing it in the graph is not exported. */
export function constant(inputs: GraphValue[], i: number, node: GraphNodeDef, what: string): ConstValue {
  const v = inputs[i];
  if (!v) throw new OnnxExportError(`${where(node)} (${node.op}) has no input ${i} (${what})`);
  if (v.kind !== 'const') throw unsupported(node, `a computed ${what}`);
  return v;
}

/** A constant's values as numbers (axes, sizes). */
export function constInts(c: ConstValue, node: GraphNodeDef, what: string): number[] {
  if (c.dtype !== 'int32') throw unsupported(node, `a ${c.dtype} ${what}`);
  return Array.from(c.data);
}

export function floatData(c: ConstValue, node: GraphNodeDef, what: string): Float32Array {
  if (c.dtype !== 'float32' || !(c.data instanceof Float32Array)) throw unsupported(node, `a ${c.dtype} ${what}`);
  return c.data;
}

const materialized = new WeakMap<OnnxGraphBuilder, Map<string, TensorValue>>();

/**
 * A float constant as a graph initializer that broadcasts against `like` as it does in TensorFlow: against an NCHW
 * image its shape is padded to rank 4 and its data transposed to NCHW. Written once per layout.
 */
export function constantTensor(b: OnnxGraphBuilder, c: ConstValue, node: GraphNodeDef, like?: TensorValue): TensorValue {
  const data = floatData(c, node, 'tensor operand');
  const nchw = like !== undefined && like.rank === 4 && like.layout === 'nchw' && c.shape.length <= 4 && c.shape.length > 0;
  const key = `${c.name}|${nchw ? 'nchw' : 'tf'}`;
  let cache = materialized.get(b);
  if (!cache) materialized.set(b, (cache = new Map<string, TensorValue>()));
  const hit = cache.get(key);
  if (hit) return hit;
  let value: TensorValue;
  if (nchw) {
    const [n, h, w, ch] = [...Array<number>(4 - c.shape.length).fill(1), ...c.shape];
    const out = new Float32Array(data.length);
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < ch; k++) out[((i * ch + k) * h + y) * w + x] = data[((i * h + y) * w + x) * ch + k];
    const dims = NHWC_TO_NCHW.map((a) => [n, h, w, ch][a]);
    value = { name: b.floatConstant(c.name, out, dims), rank: 4, layout: 'nchw' };
  } else {
    value = { name: b.floatConstant(c.name, Float32Array.from(data), c.shape.slice()), rank: c.shape.length, layout: c.shape.length === 4 ? 'nhwc' : 'none' };
  }
  cache.set(key, value);
  return value;
}

/** TensorFlow's broadcast of two shapes (null where either size is chosen at run time and the other is not 1). */
export function broadcastShapes(a: Shape, b: Shape, node: GraphNodeDef): Shape {
  const rank = Math.max(a.length, b.length);
  const pa = [...Array<number>(rank - a.length).fill(1), ...a];
  const pb = [...Array<number>(rank - b.length).fill(1), ...b];
  return pa.map((x, i) => {
    const y = pb[i];
    if (x === 1) return y;
    if (y === 1) return x;
    if (x !== null && y !== null && x !== y) throw new OnnxExportError(`${where(node)} (${node.op}): shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    return x ?? y;
  });
}
