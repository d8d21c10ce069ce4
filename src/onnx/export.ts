import type * as tf from '../tfjs/index.js';
import { OnnxExportError } from './errors.js';
import { OnnxGraphBuilder, type Dim } from './graph-builder.js';
import { emitLayersModel, emittedOutputShape, modelInputShape, type LayersEmitOptions } from './layers-export.js';
import type { LayerEmitter } from './layer-emitters.js';
import { asNhwc, type TensorValue } from './values.js';

/** One piece of an exported pipeline: reads a value of the graph, appends nodes, returns the value it computes. */
export type OnnxStage = (b: OnnxGraphBuilder, x: TensorValue) => TensorValue;

/** Pixels scaled on the way in: x * scale + offset (e.g. 0..255 to [-1, 1] is scale 1/127.5, offset -1). */
export interface PixelTransform {
  scale: number;
  offset: number;
}

/** A stage that scales pixels (see PixelTransform). */
export function scalePixels({ scale, offset }: PixelTransform): OnnxStage {
  return (b, x) => {
    let y = x.name;
    if (scale !== 1) y = b.node('Mul', [y, b.scalar('pixels/scale', scale)], {}, 'pixels/scaled');
    if (offset !== 0) y = b.node('Add', [y, b.scalar('pixels/offset', offset)], {}, 'pixels/shifted');
    return { ...x, name: y };
  };
}

/** A stage that runs a single-input, single-output LayersModel (or its truncation, see LayersEmitOptions). */
export function layersStage(model: tf.LayersModel, options: LayersEmitOptions = {}): OnnxStage {
  return (b, x) => {
    const outputs = emitLayersModel(b, model, [x], options);
    if (outputs.length !== 1) throw new OnnxExportError(`model ${model.name} has ${outputs.length} outputs; a stage gives one`);
    return outputs[0];
  };
}

export interface StagesExportOptions {
  /**
   * The input shape in tfjs order (NHWC for images; a feature vector is [null, n]), null where the size is chosen at
   * run time (batch, and height/width if the stages allow).
   */
  inputShape: (number | null)[];
  /**
   * The output shape in tfjs order, null where chosen at run time; or a function giving it once the stages have run
   * (for stages that learn it while they emit, such as a graph model's).
   */
  outputShape: (number | null)[] | (() => (number | null)[]);
  /** Graph input name; default 'pixels' for images, else 'input'. */
  inputName?: string;
  /** Graph output name; default 'output'. */
  outputName?: string;
  /**
   * The mean of the stages' output on the input and on its left-right mirror image (reversed along width): both
   * run as one batch of 2N, so the file holds the weights once.
   */
  mirrorMean?: boolean;
  /** Text stored in the model (what it is, which options made it). */
  docString?: string;
}

const RUNTIME_DIM_NAMES = ['batch', 'height', 'width', 'channels'];

function dims(shape: (number | null)[], rank4Names: boolean): Dim[] {
  return shape.map((d, i) => d ?? (i === 0 ? 'batch' : rank4Names && shape.length === 4 ? RUNTIME_DIM_NAMES[i] : `dim${i}`));
}

/** The left-right mirror of an NHWC value: reversed along width (axis 2). */
export function mirrorImage(b: OnnxGraphBuilder, x: TensorValue): TensorValue {
  const nhwc = asNhwc(b, x);
  const starts = b.int64Constant('mirror/starts', [-1]);
  const ends = b.int64Constant('mirror/ends', [-(2 ** 62)]);
  const axes = b.int64Constant('mirror/axes', [2]);
  const steps = b.int64Constant('mirror/steps', [-1]);
  return { ...nhwc, name: b.node('Slice', [nhwc.name, starts, ends, axes, steps], {}, 'mirror') };
}

/**
 * Write `stages` one after another as one ONNX model: NHWC float32 input in (as tfjs models take it), the last
 * stage's value out (rank-4 outputs transposed back to NHWC).
 */
export function exportStages(stages: OnnxStage[], options: StagesExportOptions): Uint8Array {
  const rank = options.inputShape.length;
  if (options.mirrorMean && rank !== 4) throw new OnnxExportError(`the mirror mean needs an NHWC image input (rank 4), got shape [${options.inputShape.join(', ')}]`);
  const b = new OnnxGraphBuilder('areyouacat');
  const inputName = options.inputName ?? (rank === 4 ? 'pixels' : 'input');
  const input: TensorValue = { name: b.input(inputName, dims(options.inputShape, true)), rank, layout: rank === 4 ? 'nhwc' : 'none' };
  const outputName = options.outputName ?? 'output';
  b.reserve(outputName);
  let x = input;
  if (options.mirrorMean) {
    x = { ...input, name: b.node('Concat', [input.name, mirrorImage(b, input).name], { axis: { int: 0 } }, 'with_mirror') };
  }
  for (const stage of stages) x = stage(b, x);
  x = asNhwc(b, x);
  if (options.mirrorMean) {
    const [plain, mirrored] = b.nodeWithOutputs('Split', [x.name], 2, { axis: { int: 0 } }, 'plain_and_mirrored');
    const sum = b.node('Add', [plain, mirrored], {}, 'mirror_sum');
    x = { ...x, name: b.node('Mul', [sum, b.scalar('half', 0.5)], {}, 'mirror_mean') };
  }
  const outputShape = typeof options.outputShape === 'function' ? options.outputShape() : options.outputShape;
  b.output(x.name, outputName, dims(outputShape, true));
  return b.toBytes(options.docString);
}

/** Export options of one LayersModel: how it is emitted, plus the input's pixel scaling and the mirror mean. */
export interface LayersExportOptions extends LayersEmitOptions {
  pixelTransform?: PixelTransform;
  mirrorMean?: boolean;
  inputName?: string;
  outputName?: string;
}

/**
 * A single-input tfjs LayersModel (or its truncation at `outputLayer`, pooled if asked) as ONNX model bytes: the
 * input float32 as the tfjs model takes it (NHWC [batch, H, W, C] for images), the batch chosen at run time.
 */
export function exportLayersModel(model: tf.LayersModel, options: LayersExportOptions = {}): Uint8Array {
  const inputShape = modelInputShape(model);
  if (options.dynamicSize && inputShape.length === 4) inputShape.splice(1, 2, null, null);
  const outputShape = emittedOutputShape(model, options);
  if (options.dynamicSize && outputShape.length === 4) outputShape.splice(1, 2, null, null);
  const stages = [...(options.pixelTransform ? [scalePixels(options.pixelTransform)] : []), layersStage(model, options)];
  return exportStages(stages, {
    inputShape: [null, ...inputShape.slice(1)],
    outputShape,
    inputName: options.inputName,
    outputName: options.outputName,
    mirrorMean: options.mirrorMean,
    docString: `${model.name}${options.outputLayer ? ` to ${options.outputLayer}` : ''}${options.pool ? `, ${options.pool} pooled` : ''}${options.mirrorMean ? ', mirror mean' : ''}`,
  });
}

/**
 * A layer emitter that writes `stage` in place of a layer the exporter cannot read itself, e.g. a classifier's
 * pretrained-backbone layer replaced by the backbone's exported graph (`customLayers: { [className]: ... }`).
 */
export function stageAsLayer(stage: OnnxStage): LayerEmitter {
  return (layer, inputs, ctx) => {
    if (inputs.length !== 1) throw new OnnxExportError(`layer ${layer.name} has ${inputs.length} inputs; a stage takes one`);
    return [stage(ctx.b, inputs[0])];
  };
}
