import { emitRelu } from './activations.js';
import { convKernelToOihw, depthwiseKernelToOihw, samePadding } from './conv-weights.js';
import { OnnxExportError } from './errors.js';
import type { Attribute, OnnxGraphBuilder } from './graph-builder.js';
import {
  attrBool,
  attrFloat,
  attrInts,
  attrString,
  attrStrings,
  broadcastShapes,
  checkNhwc,
  computed,
  constInts,
  constant,
  constantTensor,
  floatData,
  unsupported,
  type ComputedValue,
  type GraphEmitContext,
  type GraphNodeDef,
  type GraphOpEmitter,
  type Shape,
} from './graph-values.js';
import { asNchw, asNhwc, storedAxis, type TensorValue } from './values.js';

/**
 * TensorFlow ops of a tfjs graph model as ONNX nodes (opset 13), by op name. Every emitter reads its attributes and
 * refuses a value it does not write exactly (UnsupportedOnnxOpError naming the op, the value and the node).
 * Images are NHWC in TensorFlow and are kept NCHW in the ONNX graph (transposed once at the input).
 */

const tensor = (value: TensorValue, shape: Shape): ComputedValue => ({ kind: 'tensor', value, shape });

/** The output size along one axis of a conv or pool (TensorFlow's rule for the padding mode). */
function outSize(inSize: number | null, kernel: number, stride: number, dilation: number, padding: string, pads: [number, number]): number | null {
  if (inSize === null) return null;
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'SAME') return Math.ceil(inSize / stride);
  if (padding === 'VALID') return Math.ceil((inSize - effective + 1) / stride);
  return Math.floor((inSize + pads[0] + pads[1] - effective) / stride) + 1;
}

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/**
 * ONNX padding attributes for a conv or pool over an NHWC input of `shape`: "SAME" as explicit pads from the
 * reference shape (TensorFlow puts the odd one after), or SAME_UPPER (the same rule, at any size) when sizes are
 * chosen at run time; "VALID" as none; "EXPLICIT" from the node's explicit_paddings. Returns the pads too, for
 * the output shape.
 */
function padding(ctx: GraphEmitContext, shape: Shape, w: Window): { attrs: Record<string, Attribute>; mode: string; pads: [[number, number], [number, number]] } {
  const { node } = ctx;
  const mode = attrString(node, 'padding');
  const zero: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  if (mode === 'VALID') return { attrs: {}, mode, pads: zero };
  if (mode === 'EXPLICIT') {
    const p = attrInts(node, 'explicit_paddings');
    if (p.length !== 8 || p[0] || p[1] || p[6] || p[7]) throw unsupported(node, `explicit_paddings [${p.join(', ')}] (only height and width)`);
    return { attrs: { pads: { ints: [p[2], p[4], p[3], p[5]] } }, mode, pads: [[p[2], p[3]], [p[4], p[5]]] };
  }
  if (mode !== 'SAME') throw unsupported(node, `padding ${mode}`);
  const [h, wd] = [shape[1], shape[2]];
  if (ctx.dynamicSize || h === null || wd === null) return { attrs: { auto_pad: { string: 'SAME_UPPER' } }, mode, pads: zero };
  const [top, bottom] = samePadding(h, w.kernel[0], w.strides[0], w.dilations[0]);
  const [left, right] = samePadding(wd, w.kernel[1], w.strides[1], w.dilations[1]);
  return { attrs: { pads: { ints: [top, left, bottom, right] } }, mode, pads: [[top, bottom], [left, right]] };
}

/** An NHWC attribute list [1, a, b, 1] (strides, dilations, ksize) as [a, b]; batch or channel steps are refused. */
function spatial(node: GraphNodeDef, key: string, fallback: number[]): [number, number] {
  const v = attrInts(node, key, fallback);
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw unsupported(node, `${key} [${v.join(', ')}]`);
  return [v[1], v[2]];
}

function windowShape(x: ComputedValue, w: Window, pad: ReturnType<typeof padding>, channels: number | null): Shape {
  return [
    x.shape[0],
    outSize(x.shape[1], w.kernel[0], w.strides[0], w.dilations[0], pad.mode, pad.pads[0]),
    outSize(x.shape[2], w.kernel[1], w.strides[1], w.dilations[1], pad.mode, pad.pads[1]),
    channels,
  ];
}

/** The activation a fused conv applies after its bias. */
function fusedActivation(b: OnnxGraphBuilder, x: TensorValue, activation: string | undefined, node: GraphNodeDef): TensorValue {
  const base = `${node.name}/activation`;
  switch (activation) {
    case undefined:
      return x;
    case 'Relu':
      return emitRelu(b, x, null, base);
    case 'Relu6':
      return emitRelu(b, x, 6, base);
    case 'Elu':
      return { ...x, name: b.node('Elu', [x.name], { alpha: { float: 1 } }, base) };
    case 'Sigmoid':
      return { ...x, name: b.node('Sigmoid', [x.name], {}, base) };
    case 'LeakyRelu':
      return { ...x, name: b.node('LeakyRelu', [x.name], { alpha: { float: attrFloat(node, 'leakyrelu_alpha', 0.2) } }, base) };
    default:
      throw unsupported(node, `fused activation ${activation}`);
  }
}

/** Conv2D, DepthwiseConv2dNative and their fused forms (bias and activation, as the tfjs converter fuses them). */
function emitConv(depthwise: boolean, fused: boolean): GraphOpEmitter {
  return (inputs, ctx) => {
    const { b, node } = ctx;
    checkNhwc(node);
    const x = computed(inputs, 0, node);
    const filter = constant(inputs, 1, node, 'filter');
    if (filter.shape.length !== 4) throw unsupported(node, `a rank-${filter.shape.length} filter`);
    const [kh, kw, ci, last] = filter.shape;
    if (x.shape[3] !== null && x.shape[3] !== ci) throw unsupported(node, `${x.shape[3]} input channels for a filter of ${ci} (grouped convolution)`);
    const outChannels = depthwise ? ci * last : last;
    const w: Window = { kernel: [kh, kw], strides: spatial(node, 'strides', [1, 1, 1, 1]), dilations: spatial(node, 'dilations', [1, 1, 1, 1]) };
    let bias: string | undefined;
    let activation: string | undefined;
    if (fused) {
      const ops = attrStrings(node, 'fused_ops');
      const args = inputs.length - 2;
      if (ops[0] !== 'BiasAdd' || ops.length > 2 || args !== 1) throw unsupported(node, `fused ops [${ops.join(', ')}] and ${args} extra inputs`);
      const biasData = floatData(constant(inputs, 2, node, 'bias'), node, 'bias');
      if (biasData.length !== outChannels) throw new OnnxExportError(`node "${node.name}": bias of ${biasData.length} for ${outChannels} channels`);
      bias = b.floatConstant(`${node.name}/bias`, Float32Array.from(biasData), [outChannels]);
      activation = ops[1];
    } else if (inputs.length !== 2) throw unsupported(node, `${inputs.length} inputs`);
    const data = floatData(filter, node, 'filter');
    const weight = b.floatConstant(`${node.name}/weight`, depthwise ? depthwiseKernelToOihw(data, filter.shape) : convKernelToOihw(data, filter.shape), [outChannels, depthwise ? 1 : ci, kh, kw]);
    const pad = padding(ctx, x.shape, w);
    const y = b.node(
      'Conv',
      [asNchw(b, x.value).name, weight, ...(bias ? [bias] : [])],
      { kernel_shape: { ints: w.kernel }, strides: { ints: w.strides }, dilations: { ints: w.dilations }, group: { int: depthwise ? ci : 1 }, ...pad.attrs },
      node.name,
    );
    const out = fusedActivation(b, { name: y, rank: 4, layout: 'nchw' }, activation, node);
    return [tensor(out, windowShape(x, w, pad, outChannels))];
  };
}

/** MaxPool and AvgPool (TensorFlow averages over the window's positions inside the image only). */
function emitPool(op: 'MaxPool' | 'AveragePool'): GraphOpEmitter {
  return (inputs, ctx) => {
    const { b, node } = ctx;
    checkNhwc(node);
    const x = computed(inputs, 0, node);
    if (inputs.length !== 1) throw unsupported(node, `${inputs.length} inputs (computed window sizes)`);
    const w: Window = { kernel: spatial(node, 'ksize', []), strides: spatial(node, 'strides', [1, 1, 1, 1]), dilations: [1, 1] };
    const pad = padding(ctx, x.shape, w);
    const attrs: Record<string, Attribute> = { kernel_shape: { ints: w.kernel }, strides: { ints: w.strides }, ...pad.attrs };
    if (op === 'AveragePool') attrs.count_include_pad = { int: 0 };
    const y = b.node(op, [asNchw(b, x.value).name], attrs, node.name);
    return [tensor({ name: y, rank: 4, layout: 'nchw' }, windowShape(x, w, pad, x.shape[3]))];
  };
}

/** Elementwise ops with TensorFlow's broadcasting; constants are laid out to broadcast as they do in TensorFlow. */
function emitBinary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min'): GraphOpEmitter {
  return (inputs, ctx) => {
    const { b, node } = ctx;
    if (inputs.length !== 2) throw unsupported(node, `${inputs.length} inputs`);
    const tensors = inputs.filter((v): v is ComputedValue => v.kind === 'tensor');
    if (tensors.length === 0) throw unsupported(node, 'two constant inputs');
    // NCHW when every input is an image (rank 4, or a constant that broadcasts as one) and one already is NCHW;
    // otherwise everything in TensorFlow order.
    const nchw = inputs.every((v) => (v.kind === 'tensor' ? v.value.rank === 4 : v.shape.length <= 4)) && tensors.some((t) => t.value.layout === 'nchw');
    const like: TensorValue = { ...tensors[0].value, layout: nchw ? 'nchw' : 'none' };
    const names = inputs.map((v) => {
      if (v.kind === 'const') return constantTensor(b, v, node, nchw ? like : undefined).name;
      return (nchw ? asNchw(b, v.value) : asNhwc(b, v.value)).name;
    });
    const shape = broadcastShapes(inputs[0].shape, inputs[1].shape, node);
    const layout = shape.length === 4 ? (nchw ? 'nchw' : 'nhwc') : 'none';
    return [tensor({ name: b.node(op, names, {}, node.name), rank: shape.length, layout }, shape)];
  };
}

function emitUnary(write: (b: OnnxGraphBuilder, x: TensorValue, node: GraphNodeDef) => string): GraphOpEmitter {
  return (inputs, ctx) => {
    const x = computed(inputs, 0, ctx.node);
    if (inputs.length !== 1) throw unsupported(ctx.node, `${inputs.length} inputs`);
    return [tensor({ ...x.value, name: write(ctx.b, x.value, ctx.node) }, x.shape)];
  };
}

/** Mean and Max over constant axes (ONNX ReduceMean/ReduceMax, axes as an attribute in opset 13). */
function emitReduce(op: 'ReduceMean' | 'ReduceMax'): GraphOpEmitter {
  return (inputs, ctx) => {
    const { b, node } = ctx;
    const x = computed(inputs, 0, node);
    const rank = x.shape.length;
    const axes = [...new Set(constInts(constant(inputs, 1, node, 'axes'), node, 'axes').map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    if (axes.some((a) => a < 0 || a >= rank)) throw new OnnxExportError(`node "${node.name}": axes [${axes.join(', ')}] out of range for rank ${rank}`);
    const keepDims = attrBool(node, 'keep_dims', false);
    const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const shape = keepDims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
    // Over height and width of an NCHW image, [N, C] comes out in TensorFlow's order; otherwise reduce in it.
    const overHw = rank === 4 && axes.length === 2 && axes[0] === 1 && axes[1] === 2;
    const input = keepDims || overHw ? x.value : asNhwc(b, x.value);
    const stored = axes.map((a) => storedAxis(input, a));
    const y = b.node(op, [input.name], { axes: { ints: stored }, keepdims: { int: keepDims ? 1 : 0 } }, node.name);
    const layout = shape.length === 4 ? input.layout : 'none';
    return [tensor({ name: y, rank: shape.length, layout }, shape)];
  };
}

const emitConcat: GraphOpEmitter = (inputs, ctx) => {
  const { b, node } = ctx;
  const values = inputs.slice(0, -1);
  const axisConst = constInts(constant(inputs, inputs.length - 1, node, 'axis'), node, 'axis');
  if (values.length === 0 || axisConst.length !== 1) throw unsupported(node, `${values.length} values and axis [${axisConst.join(', ')}]`);
  const rank = values[0].shape.length;
  const axis = axisConst[0] < 0 ? axisConst[0] + rank : axisConst[0];
  const tensors = values.filter((v): v is ComputedValue => v.kind === 'tensor');
  if (tensors.length === 0) throw unsupported(node, 'only constant inputs');
  const nchw = rank === 4 && tensors.some((t) => t.value.layout === 'nchw');
  const like: TensorValue = { ...tensors[0].value, layout: nchw ? 'nchw' : rank === 4 ? 'nhwc' : 'none' };
  const names = values.map((v) => (v.kind === 'const' ? constantTensor(b, v, node, nchw ? like : undefined).name : (nchw ? asNchw(b, v.value) : asNhwc(b, v.value)).name));
  const sizeAlong = (i: number) => values.reduce<number | null>((sum, v) => {
    const d = v.shape[i];
    return sum === null || d === null ? null : sum + d;
  }, 0);
  const shape = values[0].shape.map((d, i) => (i === axis ? sizeAlong(i) : d));
  const y = b.node('Concat', names, { axis: { int: storedAxis(like, axis) } }, node.name);
  return [tensor({ name: y, rank, layout: like.layout }, shape)];
};

/**
 * ResizeBilinear and ResizeNearestNeighbor to a constant [height, width], their align_corners and
 * half_pixel_centers mapped to ONNX Resize's coordinate transformation (and, nearest, its rounding) exactly as
 * TensorFlow.js computes them:
 *   bilinear: neither -> asymmetric (src = dst * in/out); align_corners -> align_corners; half_pixel_centers ->
 *             half_pixel (src = (dst + 0.5) * in/out - 0.5, clamped at the edges).
 *   nearest:  neither -> asymmetric, floor; align_corners -> align_corners, round half up;
 *             half_pixel_centers -> tf_half_pixel_for_nn (src = (dst + 0.5) * in/out), floor.
 */
function emitResize(mode: 'linear' | 'nearest'): GraphOpEmitter {
  return (inputs, ctx) => {
    const { b, node } = ctx;
    const x = computed(inputs, 0, node);
    const size = constInts(constant(inputs, 1, node, 'size'), node, 'size');
    if (size.length !== 2 || x.shape.length !== 4) throw unsupported(node, `size [${size.join(', ')}] on a rank-${x.shape.length} input`);
    const alignCorners = attrBool(node, 'align_corners', false);
    const halfPixel = attrBool(node, 'half_pixel_centers', false);
    if (alignCorners && halfPixel) throw unsupported(node, 'both align_corners and half_pixel_centers');
    const attrs: Record<string, Attribute> = { mode: { string: mode } };
    if (mode === 'linear') attrs.coordinate_transformation_mode = { string: alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric' };
    else {
      attrs.coordinate_transformation_mode = { string: alignCorners ? 'align_corners' : halfPixel ? 'tf_half_pixel_for_nn' : 'asymmetric' };
      attrs.nearest_mode = { string: alignCorners ? 'round_prefer_ceil' : 'floor' };
    }
    const input = asNchw(b, x.value);
    let resized: string;
    if (ctx.dynamicSize) {
      // Sizes chosen at run time: only a target that is a whole multiple of its input (at the reference shape) is
      // written, as that multiple, and only when the caller says the graph's targets scale with its input.
      const [h, w] = [x.shape[1], x.shape[2]];
      if (!ctx.proportionalResize || h === null || w === null || size[0] % h !== 0 || size[1] % w !== 0) {
        throw new OnnxExportError(
          `node "${node.name}" (${node.op}) resizes [${h}, ${w}] to the constant [${size.join(', ')}]: with sizes chosen at run time only a whole-multiple resize ` +
            'can be exported, and only with proportionalResize (export at a fixed size instead)',
        );
      }
      const scales = b.floatConstant(`${node.name}/scales`, Float32Array.of(1, 1, size[0] / h, size[1] / w), [4]);
      resized = b.node('Resize', [input.name, '', scales], attrs, node.name);
    } else {
      // [N, C] of the input at run time, then the constant height and width.
      const shape = b.node('Shape', [input.name], {}, `${node.name}/input_shape`);
      const nc = b.node('Slice', [shape, b.int64Constant(`${node.name}/nc_start`, [0]), b.int64Constant(`${node.name}/nc_end`, [2])], {}, `${node.name}/nc`);
      const sizes = b.node('Concat', [nc, b.int64Constant(`${node.name}/hw`, size)], { axis: { int: 0 } }, `${node.name}/sizes`);
      resized = b.node('Resize', [input.name, '', '', sizes], attrs, node.name);
    }
    return [tensor({ name: resized, rank: 4, layout: 'nchw' }, [x.shape[0], size[0], size[1], x.shape[3]])];
  };
}

/** Pad with zeros (constant paddings [[before, after], ...] per TensorFlow axis). */
const emitPad: GraphOpEmitter = (inputs, ctx) => {
  const { b, node } = ctx;
  const x = computed(inputs, 0, node);
  if (inputs.length !== 2) throw unsupported(node, `${inputs.length} inputs (a constant value)`);
  const p = constInts(constant(inputs, 1, node, 'paddings'), node, 'paddings');
  const rank = x.shape.length;
  if (p.length !== 2 * rank) throw new OnnxExportError(`node "${node.name}": ${p.length / 2} paddings for rank ${rank}`);
  const before = Array<number>(rank).fill(0);
  const after = Array<number>(rank).fill(0);
  for (let a = 0; a < rank; a++) {
    const s = storedAxis(x.value, a);
    before[s] = p[2 * a];
    after[s] = p[2 * a + 1];
  }
  const y = b.node('Pad', [x.value.name, b.int64Constant(`${node.name}/pads`, [...before, ...after])], { mode: { string: 'constant' } }, node.name);
  const shape = x.shape.map((d, a) => (d === null ? null : d + p[2 * a] + p[2 * a + 1]));
  return [tensor({ ...x.value, name: y }, shape)];
};

/** The TensorFlow ops the graph-model exporter writes (Placeholder and Const are handled by the walk itself). */
export const GRAPH_OP_EMITTERS: Record<string, GraphOpEmitter> = {
  Conv2D: emitConv(false, false),
  _FusedConv2D: emitConv(false, true),
  DepthwiseConv2dNative: emitConv(true, false),
  FusedDepthwiseConv2dNative: emitConv(true, true),
  MaxPool: emitPool('MaxPool'),
  AvgPool: emitPool('AveragePool'),
  Add: emitBinary('Add'),
  AddV2: emitBinary('Add'),
  BiasAdd: (inputs, ctx) => {
    checkNhwc(ctx.node);
    return emitBinary('Add')(inputs, ctx);
  },
  Sub: emitBinary('Sub'),
  Mul: emitBinary('Mul'),
  RealDiv: emitBinary('Div'),
  Maximum: emitBinary('Max'),
  Minimum: emitBinary('Min'),
  Relu: emitUnary((b, x, node) => emitRelu(b, x, null, node.name).name),
  Relu6: emitUnary((b, x, node) => emitRelu(b, x, 6, node.name).name),
  Sigmoid: emitUnary((b, x, node) => b.node('Sigmoid', [x.name], {}, node.name)),
  Tanh: emitUnary((b, x, node) => b.node('Tanh', [x.name], {}, node.name)),
  Elu: emitUnary((b, x, node) => b.node('Elu', [x.name], { alpha: { float: 1 } }, node.name)),
  LeakyRelu: emitUnary((b, x, node) => b.node('LeakyRelu', [x.name], { alpha: { float: attrFloat(node, 'alpha', 0.2) } }, node.name)),
  Identity: (inputs, ctx) => [computed(inputs, 0, ctx.node)],
  Mean: emitReduce('ReduceMean'),
  Max: emitReduce('ReduceMax'),
  ConcatV2: emitConcat,
  ResizeBilinear: emitResize('linear'),
  ResizeNearestNeighbor: emitResize('nearest'),
  Pad: emitPad,
};
