import type * as tf from '../tfjs/index.js';
import { emitActivation, emitRelu } from './activations.js';
import { batchNormAffine, convKernelToOihw, depthwiseKernelToOihw, samePadding } from './conv-weights.js';
import { OnnxExportError, UnsupportedOnnxOpError } from './errors.js';
import type { Attribute, OnnxGraphBuilder } from './graph-builder.js';
import { asNchw, asNhwc, storedAxis, type TensorValue } from './values.js';

/** What an emitter knows besides its layer and inputs. */
export interface EmitContext {
  b: OnnxGraphBuilder;
  /** Spatial sizes chosen at run time: "same" padding as SAME_UPPER instead of pads computed from the model's shapes. */
  dynamicSize: boolean;
  /** Whether the layer's input `i` feeds nothing but this layer (then a batch norm may be folded into its producer). */
  soleConsumer(i: number): boolean;
  /** The TensorFlow.js shapes (NHWC for images, null for sizes chosen at run time) of the layer's inputs in the model. */
  inputShapes: (number | null)[][];
}

/** Emits one layer call: its inputs' values in, its outputs' values out. */
export type LayerEmitter = (layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext) => TensorValue[];

type Config = Record<string, any>;

/** A convolution written by this exporter: where its weights are, so a following batch norm can be folded in. */
interface ConvRecord {
  weight: string;
  bias: string;
  outChannels: number;
}
const convs = new WeakMap<OnnxGraphBuilder, Map<string, ConvRecord>>();

function weight(layer: tf.layers.Layer, suffix: string, required: true): { data: Float32Array; shape: number[] };
function weight(layer: tf.layers.Layer, suffix: string, required: false): { data: Float32Array; shape: number[] } | null;
function weight(layer: tf.layers.Layer, suffix: string, required: boolean): { data: Float32Array; shape: number[] } | null {
  const w = layer.weights.find((v) => v.originalName === suffix || v.originalName.endsWith(`/${suffix}`));
  if (!w) {
    if (required) throw new OnnxExportError(`layer ${layer.name} (${layer.getClassName()}) has no weight "${suffix}"`);
    return null;
  }
  const t = w.read();
  return { data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape.slice() };
}

const pair = (v: number | number[] | undefined, fallback: number): [number, number] =>
  v == null ? [fallback, fallback] : Array.isArray(v) ? [v[0], v[v.length > 1 ? 1 : 0]] : [v, v];

function checkChannelsLast(layer: tf.layers.Layer, config: Config): void {
  if (config.dataFormat && config.dataFormat !== 'channelsLast') {
    throw new UnsupportedOnnxOpError(`dataFormat ${config.dataFormat}`, `layer ${layer.name} (${layer.getClassName()})`);
  }
}

/** Pads or auto_pad for a conv or pool with TensorFlow's padding mode over an NHWC input of `inputShape`. */
function paddingAttributes(
  layer: tf.layers.Layer,
  padding: string,
  inputShape: (number | null)[],
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number],
  ctx: EmitContext,
): Record<string, Attribute> {
  if (padding === 'valid') return {};
  if (padding !== 'same') throw new UnsupportedOnnxOpError(`padding ${padding}`, `layer ${layer.name} (${layer.getClassName()})`);
  const [h, w] = [inputShape[1], inputShape[2]];
  if (ctx.dynamicSize || h == null || w == null) return { auto_pad: { string: 'SAME_UPPER' } };
  const [top, bottom] = samePadding(h, kernel[0], strides[0], dilation[0]);
  const [left, right] = samePadding(w, kernel[1], strides[1], dilation[1]);
  return { pads: { ints: [top, left, bottom, right] } };
}

function one(inputs: TensorValue[], layer: tf.layers.Layer, rank?: number): TensorValue {
  if (inputs.length !== 1) throw new OnnxExportError(`layer ${layer.name} (${layer.getClassName()}) has ${inputs.length} inputs, expected 1`);
  if (rank !== undefined && inputs[0].rank !== rank) {
    throw new UnsupportedOnnxOpError(`${layer.getClassName()} on a rank-${inputs[0].rank} input`, `layer ${layer.name} (expected rank ${rank})`);
  }
  return inputs[0];
}

function emitConv(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext, depthwise: boolean): TensorValue[] {
  const { b } = ctx;
  const config = layer.getConfig();
  checkChannelsLast(layer, config);
  const x = asNchw(b, one(inputs, layer, 4));
  const kernel = weight(layer, depthwise ? 'depthwise_kernel' : 'kernel', true);
  const [kh, kw, ci, last] = kernel.shape;
  const outChannels = depthwise ? ci * last : last;
  const strides = pair(config.strides as number | number[], 1);
  const dilation = pair(config.dilationRate as number | number[], 1);
  const w = b.floatConstant(`${layer.name}/weight`, depthwise ? depthwiseKernelToOihw(kernel.data, kernel.shape) : convKernelToOihw(kernel.data, kernel.shape), [
    outChannels,
    depthwise ? 1 : ci,
    kh,
    kw,
  ]);
  const biasData = (config.useBias as boolean) ? weight(layer, 'bias', true).data : new Float32Array(outChannels);
  const bias = b.floatConstant(`${layer.name}/bias`, biasData, [outChannels]);
  const y = b.node(
    'Conv',
    [x.name, w, bias],
    {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: strides },
      dilations: { ints: dilation },
      group: { int: depthwise ? ci : 1 },
      ...paddingAttributes(layer, config.padding as string, ctx.inputShapes[0], [kh, kw], strides, dilation, ctx),
    },
    layer.name,
  );
  let record = convs.get(b);
  if (!record) convs.set(b, (record = new Map<string, ConvRecord>()));
  record.set(y, { weight: w, bias, outChannels });
  return [emitActivation(b, { name: y, rank: 4, layout: 'nchw' }, config.activation as string, `${layer.name}/activation`)];
}

function emitBatchNorm(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  const { b } = ctx;
  const config = layer.getConfig();
  const x = one(inputs, layer);
  const axis = config.axis as number | number[];
  if (Array.isArray(axis) || (axis !== -1 && axis !== x.rank - 1)) {
    throw new UnsupportedOnnxOpError(`BatchNormalization over axis ${JSON.stringify(axis)}`, `layer ${layer.name} (only the last axis)`);
  }
  const { scale, shift } = batchNormAffine(
    config.scale === false ? null : weight(layer, 'gamma', true).data,
    config.center === false ? null : weight(layer, 'beta', true).data,
    weight(layer, 'moving_mean', true).data,
    weight(layer, 'moving_variance', true).data,
    config.epsilon as number,
  );
  const conv = convs.get(b)?.get(x.name);
  if (conv && ctx.soleConsumer(0)) {
    // Fold into the convolution: W' = W * scale (per output channel), b' = b * scale + shift.
    const w = b.floatData(conv.weight)!;
    const bias = b.floatData(conv.bias)!;
    const per = w.length / conv.outChannels;
    for (let o = 0; o < conv.outChannels; o++) {
      for (let k = 0; k < per; k++) w[o * per + k] *= scale[o];
      bias[o] = bias[o] * scale[o] + shift[o];
    }
    return [x];
  }
  const channels = scale.length;
  const dims = x.rank === 4 && x.layout === 'nchw' ? [channels, 1, 1] : [channels];
  const mul = b.node('Mul', [x.name, b.floatConstant(`${layer.name}/scale`, scale, dims)], {}, `${layer.name}/mul`);
  return [{ ...x, name: b.node('Add', [mul, b.floatConstant(`${layer.name}/shift`, shift, dims)], {}, layer.name) }];
}

function emitPool(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext, op: 'MaxPool' | 'AveragePool'): TensorValue[] {
  const { b } = ctx;
  const config = layer.getConfig();
  checkChannelsLast(layer, config);
  const x = asNchw(b, one(inputs, layer, 4));
  const size = pair(config.poolSize as number | number[], 2);
  const strides = pair((config.strides as number | number[] | null) ?? size, 1);
  const attrs: Record<string, Attribute> = {
    kernel_shape: { ints: size },
    strides: { ints: strides },
    ...paddingAttributes(layer, config.padding as string, ctx.inputShapes[0], size, strides, [1, 1], ctx),
  };
  // TensorFlow averages over the window's positions inside the image only.
  if (op === 'AveragePool') attrs.count_include_pad = { int: 0 };
  return [{ name: b.node(op, [x.name], attrs, layer.name), rank: 4, layout: 'nchw' }];
}

function emitGlobalPool(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext, op: 'ReduceMean' | 'ReduceMax'): TensorValue[] {
  const config = layer.getConfig();
  checkChannelsLast(layer, config);
  const x = one(inputs, layer, 4);
  const keepDims = config.keepDims === true;
  const y = ctx.b.node(op, [x.name], { axes: { ints: [storedAxis(x, 1), storedAxis(x, 2)] }, keepdims: { int: keepDims ? 1 : 0 } }, layer.name);
  return [keepDims ? { ...x, name: y } : { name: y, rank: 2, layout: 'none' }];
}

function emitDense(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  const { b } = ctx;
  const config = layer.getConfig();
  const x = asNhwc(b, one(inputs, layer));
  const kernel = weight(layer, 'kernel', true);
  const units = kernel.shape[1];
  const w = b.floatConstant(`${layer.name}/kernel`, kernel.data, kernel.shape);
  const bias = (config.useBias as boolean) ? b.floatConstant(`${layer.name}/bias`, weight(layer, 'bias', true).data, [units]) : null;
  let y: string;
  if (x.rank === 2) y = b.node('Gemm', bias ? [x.name, w, bias] : [x.name, w], {}, layer.name);
  else {
    const m = b.node('MatMul', [x.name, w], {}, bias ? `${layer.name}/matmul` : layer.name);
    y = bias ? b.node('Add', [m, bias], {}, layer.name) : m;
  }
  return [emitActivation(b, { name: y, rank: x.rank, layout: x.layout }, config.activation as string, `${layer.name}/activation`)];
}

function emitFlatten(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  // NHWC order, as tfjs flattens: transpose an NCHW map back first.
  const x = asNhwc(ctx.b, one(inputs, layer));
  if (x.rank === 2) return [x];
  return [{ name: ctx.b.node('Flatten', [x.name], { axis: { int: 1 } }, layer.name), rank: 2, layout: 'none' }];
}

function emitReshape(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  const config = layer.getConfig();
  const target = config.targetShape as number[];
  if (target.some((d) => d === 0)) throw new UnsupportedOnnxOpError('Reshape to a zero size', `layer ${layer.name}`);
  const x = asNhwc(ctx.b, one(inputs, layer));
  // 0 keeps the batch dimension as it is at run time.
  const shape = ctx.b.int64Constant(`${layer.name}/shape`, [0, ...target]);
  const rank = target.length + 1;
  return [{ name: ctx.b.node('Reshape', [x.name, shape], {}, layer.name), rank, layout: rank === 4 ? 'nhwc' : 'none' }];
}

function emitZeroPadding(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  const config = layer.getConfig();
  checkChannelsLast(layer, config);
  const x = asNchw(ctx.b, one(inputs, layer, 4));
  const p = config.padding as number | [number, number] | [[number, number], [number, number]];
  const [[top, bottom], [left, right]] =
    typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
  const pads = ctx.b.int64Constant(`${layer.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  return [{ name: ctx.b.node('Pad', [x.name, pads], {}, layer.name), rank: 4, layout: 'nchw' }];
}

/** Bring inputs to one layout: NCHW when any rank-4 input is NCHW. */
function alike(b: OnnxGraphBuilder, inputs: TensorValue[]): TensorValue[] {
  const nchw = inputs.some((v) => v.rank === 4 && v.layout === 'nchw');
  return inputs.map((v) => (nchw ? asNchw(b, v) : asNhwc(b, v)));
}

function emitElementwise(op: 'Add' | 'Mul' | 'Max' | 'Min'): LayerEmitter {
  return (layer, inputs, ctx) => {
    const xs = alike(ctx.b, inputs);
    let y = xs[0].name;
    for (let i = 1; i < xs.length; i++) y = ctx.b.node(op, [y, xs[i].name], {}, i === xs.length - 1 ? layer.name : `${layer.name}/${i}`);
    return [{ ...xs[0], name: y }];
  };
}

function emitConcatenate(layer: tf.layers.Layer, inputs: TensorValue[], ctx: EmitContext): TensorValue[] {
  const xs = alike(ctx.b, inputs);
  const axis = storedAxis(xs[0], (layer.getConfig()).axis as number);
  return [{ ...xs[0], name: ctx.b.node('Concat', xs.map((v) => v.name), { axis: { int: axis } }, layer.name) }];
}

const identity: LayerEmitter = (layer, inputs) => [one(inputs, layer)];

/** The layer classes the exporter writes, by tfjs class name. */
export const LAYER_EMITTERS: Record<string, LayerEmitter> = {
  Conv2D: (l, i, c) => emitConv(l, i, c, false),
  DepthwiseConv2D: (l, i, c) => emitConv(l, i, c, true),
  BatchNormalization: emitBatchNorm,
  Activation: (l, i, c) => [emitActivation(c.b, one(i, l), (l.getConfig()).activation as string, l.name)],
  ReLU: (l, i, c) => [emitRelu(c.b, one(i, l), (l.getConfig()).maxValue as number | null, l.name)],
  Softmax: (l, i, c) => {
    const x = one(i, l);
    return [{ ...x, name: c.b.node('Softmax', [x.name], { axis: { int: storedAxis(x, (l.getConfig()).axis as number) } }, l.name) }];
  },
  LeakyReLU: (l, i, c) => {
    const x = one(i, l);
    return [{ ...x, name: c.b.node('LeakyRelu', [x.name], { alpha: { float: (l.getConfig()).alpha as number } }, l.name) }];
  },
  MaxPooling2D: (l, i, c) => emitPool(l, i, c, 'MaxPool'),
  AveragePooling2D: (l, i, c) => emitPool(l, i, c, 'AveragePool'),
  GlobalAveragePooling2D: (l, i, c) => emitGlobalPool(l, i, c, 'ReduceMean'),
  GlobalMaxPooling2D: (l, i, c) => emitGlobalPool(l, i, c, 'ReduceMax'),
  Dense: emitDense,
  Flatten: emitFlatten,
  Reshape: emitReshape,
  ZeroPadding2D: emitZeroPadding,
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  Add: emitElementwise('Add'),
  Multiply: emitElementwise('Mul'),
  Maximum: emitElementwise('Max'),
  Minimum: emitElementwise('Min'),
  Concatenate: emitConcatenate,
};
