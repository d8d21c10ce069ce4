import type { OnnxGraphBuilder } from './graph-builder.js';

/**
 * How a rank-4 value's axes are ordered inside the graph. TensorFlow.js images are NHWC; ONNX convolutions and
 * pools take NCHW, so image tensors are kept NCHW between them and transposed back only where the order matters
 * (flatten, reshape, dense over a map, the graph's outputs). Values of other ranks are in TensorFlow.js order ('none').
 */
export type Layout = 'nhwc' | 'nchw' | 'none';

/** A value of the graph being built, with what the exporter knows about it. */
export interface TensorValue {
  name: string;
  rank: number;
  layout: Layout;
}

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];

const transposed = new WeakMap<OnnxGraphBuilder, Map<string, string>>();

function transposeOnce(b: OnnxGraphBuilder, name: string, perm: number[], suffix: string): string {
  let cache = transposed.get(b);
  if (!cache) transposed.set(b, (cache = new Map<string, string>()));
  const key = `${name}|${perm.join(',')}`;
  let out = cache.get(key);
  if (!out) {
    out = b.node('Transpose', [name], { perm: { ints: perm } }, `${name}/${suffix}`);
    cache.set(key, out);
    // Transposing back gives the original value, not a second transpose.
    cache.set(`${out}|${(perm === NHWC_TO_NCHW ? NCHW_TO_NHWC : NHWC_TO_NCHW).join(',')}`, name);
  }
  return out;
}

/** The value with NCHW axes (rank 4), transposing an NHWC one (once per value). */
export function asNchw(b: OnnxGraphBuilder, v: TensorValue): TensorValue {
  if (v.rank !== 4 || v.layout === 'nchw') return v;
  return { name: transposeOnce(b, v.name, NHWC_TO_NCHW, 'nchw'), rank: 4, layout: 'nchw' };
}

/** The value in TensorFlow.js order (NHWC for rank 4), transposing an NCHW one (once per value). */
export function asNhwc(b: OnnxGraphBuilder, v: TensorValue): TensorValue {
  if (v.rank !== 4 || v.layout !== 'nchw') return v;
  return { name: transposeOnce(b, v.name, NCHW_TO_NHWC, 'nhwc'), rank: 4, layout: 'nhwc' };
}

/** The ONNX axis of a TensorFlow.js axis (negative counts from the end) of `v` as it is stored. */
export function storedAxis(v: TensorValue, tfAxis: number): number {
  const axis = tfAxis < 0 ? v.rank + tfAxis : tfAxis;
  if (v.rank === 4 && v.layout === 'nchw') return NHWC_TO_NCHW.indexOf(axis);
  return axis;
}
