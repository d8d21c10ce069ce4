import * as core from '@tensorflow/tfjs-core';
// Types only (erased at run time): the declarations of the chained methods on tfjs-core's Tensor.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

/**
 * The chained tensor methods of TensorFlow.js (`x.reshape(...)`, `x.mean()`...). tfjs-core only declares them: its
 * ES modules under dist/public/chained_ops add them to the Tensor class, and only the `@tensorflow/tfjs` union
 * package (and bundlers that read those ES modules) runs them. Node loads the packages' CommonJS builds, which have
 * no such entry (and tfjs-core's ES modules cannot be loaded by Node: extensionless imports in a CommonJS package),
 * so this project adds the same methods, each `op(this, ...args)` as tfjs-core 4.22 defines it. The type-only
 * import above brings their declarations. test/tfjs checks that the list matches the installed tfjs-core's.
 */

/** Methods that call the tfjs-core op of the same name with the tensor as the first argument. */
export const SAME_NAME_OPS = [
  'abs', 'acos', 'acosh', 'add', 'all', 'any', 'argMax', 'argMin', 'asin', 'asinh', 'atan', 'atan2', 'atanh',
  'avgPool', 'batchToSpaceND', 'batchNorm', 'broadcastTo', 'cast', 'ceil', 'clipByValue', 'conv1d',
  'conv2dTranspose', 'conv2d', 'cos', 'cosh', 'cumprod', 'cumsum', 'depthToSpace', 'depthwiseConv2d', 'dilation2d',
  'divNoNan', 'div', 'dot', 'elu', 'equal', 'erf', 'euclideanNorm', 'exp', 'expandDims', 'expm1', 'fft', 'floor',
  'floorDiv', 'gather', 'greaterEqual', 'greater', 'ifft', 'irfft', 'isFinite', 'isInf', 'isNaN', 'leakyRelu',
  'lessEqual', 'less', 'localResponseNormalization', 'logSigmoid', 'logSoftmax', 'logSumExp', 'log', 'log1p',
  'logicalAnd', 'logicalNot', 'logicalOr', 'logicalXor', 'matMul', 'maxPool', 'max', 'maximum', 'mean', 'min',
  'minimum', 'mirrorPad', 'mod', 'mul', 'neg', 'norm', 'notEqual', 'oneHot', 'onesLike', 'pad', 'pool', 'pow',
  'prelu', 'prod', 'reciprocal', 'relu', 'relu6', 'reshape', 'reverse', 'rfft', 'round', 'rsqrt', 'selu',
  'separableConv2d', 'sigmoid', 'sign', 'sin', 'sinh', 'slice', 'softmax', 'softplus', 'spaceToBatchND', 'split',
  'sqrt', 'square', 'squaredDifference', 'squeeze', 'step', 'stridedSlice', 'sub', 'sum', 'tan', 'tanh', 'tile',
  'topk', 'transpose', 'unique', 'unsortedSegmentSum', 'unstack', 'zerosLike',
] as const;

type Method = (this: core.Tensor, ...args: never[]) => unknown;
type AnyOp = (...args: unknown[]) => unknown;

/** Methods that reshape, cast, or put the tensor elsewhere than first. */
const OTHER_METHODS: Record<string, Method> = {
  asScalar(this: core.Tensor) {
    core.util.assert(this.size === 1, () => 'The array must have only 1 element.');
    return core.reshape(this, []);
  },
  asType(this: core.Tensor, dtype: core.DataType) {
    return core.cast(this, dtype);
  },
  as1D(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  as2D(this: core.Tensor, rows: number, columns: number) {
    return core.reshape(this, [rows, columns]);
  },
  as3D(this: core.Tensor, rows: number, columns: number, depth: number) {
    return core.reshape(this, [rows, columns, depth]);
  },
  as4D(this: core.Tensor, rows: number, columns: number, depth: number, depth2: number) {
    return core.reshape(this, [rows, columns, depth, depth2]);
  },
  as5D(this: core.Tensor, rows: number, columns: number, depth: number, depth2: number, depth3: number) {
    return core.reshape(this, [rows, columns, depth, depth2, depth3]);
  },
  flatten(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  reshapeAs(this: core.Tensor, x: core.Tensor) {
    return core.reshape(this, x.shape);
  },
  toBool(this: core.Tensor) {
    return core.cast(this, 'bool');
  },
  toFloat(this: core.Tensor) {
    return core.cast(this, 'float32');
  },
  toInt(this: core.Tensor) {
    return core.cast(this, 'int32');
  },
  concat(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.concat([this, ...(x instanceof core.Tensor ? [x] : x)], axis);
  },
  stack(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.stack(x instanceof core.Tensor ? [this, x] : [this, ...x], axis);
  },
  where(this: core.Tensor, condition: core.Tensor, x: core.Tensor) {
    return core.where(condition, this, x);
  },
  resizeBilinear(this: core.Tensor, newShape2D: [number, number], alignCorners?: boolean, halfPixelCenters?: boolean) {
    return core.image.resizeBilinear(this as core.Tensor3D | core.Tensor4D, newShape2D, alignCorners, halfPixelCenters);
  },
  resizeNearestNeighbor(this: core.Tensor, newShape2D: [number, number], alignCorners?: boolean, halfPixelCenters?: boolean) {
    return core.image.resizeNearestNeighbor(this as core.Tensor3D | core.Tensor4D, newShape2D, alignCorners, halfPixelCenters);
  },
};

/** Every chained method this module adds, by name. */
export function chainedMethodNames(): string[] {
  return [...SAME_NAME_OPS, ...Object.keys(OTHER_METHODS)];
}

/** Add the chained methods to tfjs-core's Tensor class (idempotent; the same definitions as the union package's). */
export function registerChainedOps(): void {
  const proto = core.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = core as unknown as Record<string, AnyOp>;
  for (const name of SAME_NAME_OPS) {
    const op = ops[name];
    if (typeof op !== 'function') throw new Error(`tfjs-core has no op ${name} for the chained method`);
    proto[name] = function (this: core.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return op(this, ...args);
    };
  }
  for (const [name, method] of Object.entries(OTHER_METHODS)) {
    proto[name] = function (this: core.Tensor, ...args: never[]) {
      this.throwIfDisposed();
      return method.apply(this, args);
    };
  }
}

// On import: src/tfjs/index.ts imports this module for that (a call there, next to its `export *`, trips the
// declaration emitter of tslab's TypeScript 5.0 in notebooks).
registerChainedOps();
