import { UnsupportedOnnxOpError } from './errors.js';
import type { OnnxGraphBuilder } from './graph-builder.js';
import { storedAxis, type TensorValue } from './values.js';

/**
 * Append a TensorFlow.js activation (by its serialised name) to `x`. Softmax is over the last TensorFlow.js axis
 * (the channels, wherever they are stored). Any other name is an UnsupportedOnnxOpError.
 */
export function emitActivation(b: OnnxGraphBuilder, x: TensorValue, activation: string | undefined | null, base: string): TensorValue {
  const out = (name: string): TensorValue => ({ ...x, name });
  switch (activation ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return out(b.node('Relu', [x.name], {}, base));
    case 'relu6':
      return out(b.node('Clip', [x.name, b.scalar(`${base}/min`, 0), b.scalar(`${base}/max`, 6)], {}, base));
    case 'sigmoid':
      return out(b.node('Sigmoid', [x.name], {}, base));
    case 'tanh':
      return out(b.node('Tanh', [x.name], {}, base));
    case 'softmax':
      return out(b.node('Softmax', [x.name], { axis: { int: storedAxis(x, -1) } }, base));
    case 'elu':
      return out(b.node('Elu', [x.name], { alpha: { float: 1 } }, base));
    case 'softplus':
      return out(b.node('Softplus', [x.name], {}, base));
    case 'softsign':
      return out(b.node('Softsign', [x.name], {}, base));
    case 'hardSigmoid':
      // tfjs: clip(0.2 x + 0.5, 0, 1), ONNX HardSigmoid's defaults.
      return out(b.node('HardSigmoid', [x.name], { alpha: { float: 0.2 }, beta: { float: 0.5 } }, base));
    case 'swish':
      return out(b.node('Mul', [x.name, b.node('Sigmoid', [x.name], {}, `${base}/sigmoid`)], {}, base));
    default:
      throw new UnsupportedOnnxOpError(`activation ${activation}`, `in ${base}`);
  }
}

/** ReLU with an optional cap (the ReLU layer's maxValue): Relu, or Clip(0, cap). */
export function emitRelu(b: OnnxGraphBuilder, x: TensorValue, maxValue: number | null | undefined, base: string): TensorValue {
  if (maxValue == null) return { ...x, name: b.node('Relu', [x.name], {}, base) };
  return { ...x, name: b.node('Clip', [x.name, b.scalar(`${base}/min`, 0), b.scalar(`${base}/max`, maxValue)], {}, base) };
}
