import * as tf from '../tfjs/index.js';
import { OnnxExportError, UnsupportedOnnxOpError } from './errors.js';
import type { OnnxGraphBuilder } from './graph-builder.js';
import { LAYER_EMITTERS, type LayerEmitter } from './layer-emitters.js';
import type { TensorValue } from './values.js';

/** How a LayersModel is written into a graph. */
export interface LayersEmitOptions {
  /** Stop at this layer's output (e.g. MobileNet's `conv_pw_13_relu`) instead of the model's outputs. */
  outputLayer?: string;
  /** Reduce a rank-4 output over height and width ([N, C]), as features for a head. */
  pool?: 'mean' | 'max';
  /** "same" padding as SAME_UPPER so that any input height and width work (else pads from the model's shapes). */
  dynamicSize?: boolean;
  /** Emitters for layer classes the exporter does not know (by tfjs class name), e.g. a custom backbone layer. */
  customLayers?: Record<string, LayerEmitter>;
}

interface LayerCall {
  layer: tf.layers.Layer;
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
}

interface TopologyNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

const nodesOf = (layer: tf.layers.Layer): TopologyNode[] => (layer as unknown as { inboundNodes: TopologyNode[] }).inboundNodes;

/** The layer call that produced `t`. */
function producer(t: tf.SymbolicTensor): LayerCall {
  const node = nodesOf(t.sourceLayer)[t.nodeIndex];
  return { layer: t.sourceLayer, inputs: node.inputTensors, outputs: node.outputTensors };
}

/**
 * The layer calls that compute `targets` from `inputs`, in an order where every call comes after the calls it
 * reads from; null when a target does not depend on the inputs alone.
 */
function callsBetween(inputs: tf.SymbolicTensor[], targets: tf.SymbolicTensor[]): LayerCall[] | null {
  const known = new Set(inputs.map((t) => t.id));
  const order: LayerCall[] = [];
  const visited = new Set<number>();
  const visit = (t: tf.SymbolicTensor): boolean => {
    if (known.has(t.id) || visited.has(t.id)) return true;
    const call = producer(t);
    if (call.inputs.length === 0) return false; // an input layer that is not one of ours
    for (const i of call.inputs) if (!visit(i)) return false;
    call.outputs.forEach((o) => visited.add(o.id));
    order.push(call);
    return true;
  };
  return targets.every(visit) ? order : null;
}

/** The output tensors of the call of `layerName` that this model makes (a shared layer has calls in other models too). */
function layerOutputIn(model: tf.LayersModel, layerName: string): tf.SymbolicTensor {
  const layer = model.layers.find((l) => l.name === layerName);
  if (!layer) {
    const names = model.layers.map((l) => l.name);
    throw new OnnxExportError(`model ${model.name} has no layer "${layerName}" (its layers: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`);
  }
  for (const node of nodesOf(layer)) {
    if (node.outputTensors.length !== 1) continue;
    if (callsBetween(model.inputs, node.outputTensors)) return node.outputTensors[0];
  }
  throw new OnnxExportError(`layer "${layerName}" of model ${model.name} has no single output computed from the model's inputs`);
}

const shapeOf = (t: tf.SymbolicTensor): (number | null)[] => t.shape.slice();

/**
 * Append `model` to the graph `b`, reading `inputs` (one value per model input, in tfjs order and layout), and
 * return the values of its outputs (or of `outputLayer`'s output, pooled if asked). Every layer on the way must
 * be known to the exporter (or given in `customLayers`), else an UnsupportedOnnxOpError names it.
 */
export function emitLayersModel(b: OnnxGraphBuilder, model: tf.LayersModel, inputs: TensorValue[], options: LayersEmitOptions = {}): TensorValue[] {
  if (inputs.length !== model.inputs.length) throw new OnnxExportError(`model ${model.name} takes ${model.inputs.length} inputs, got ${inputs.length}`);
  const targets = options.outputLayer ? [layerOutputIn(model, options.outputLayer)] : model.outputs;
  const calls = callsBetween(model.inputs, targets);
  if (!calls) throw new OnnxExportError(`model ${model.name}: its outputs do not depend on its inputs alone`);
  // How many calls (and outputs) read each tensor: a batch norm folds into a conv only when it is the conv's sole reader.
  const readers = new Map<number, number>();
  const read = (t: tf.SymbolicTensor) => readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  calls.forEach((c) => c.inputs.forEach(read));
  targets.forEach(read);

  const values = new Map<number, TensorValue>(model.inputs.map((t, i) => [t.id, inputs[i]]));
  for (const call of calls) {
    const ins = call.inputs.map((t) => values.get(t.id)!);
    const outs = emitLayerCall(b, call, ins, options, (i) => readers.get(call.inputs[i].id) === 1);
    if (outs.length !== call.outputs.length) throw new OnnxExportError(`layer ${call.layer.name} gave ${outs.length} outputs, expected ${call.outputs.length}`);
    call.outputs.forEach((t, i) => values.set(t.id, outs[i]));
  }
  return targets.map((t) => {
    const v = values.get(t.id)!;
    if (!options.pool) return v;
    if (v.rank !== 4) throw new OnnxExportError(`pool "${options.pool}" needs a rank-4 output; ${t.name} has rank ${v.rank}`);
    const axes = v.layout === 'nchw' ? [2, 3] : [1, 2];
    const op = options.pool === 'mean' ? 'ReduceMean' : 'ReduceMax';
    return { name: b.node(op, [v.name], { axes: { ints: axes }, keepdims: { int: 0 } }, `${options.outputLayer ?? 'output'}/${options.pool}_pool`), rank: 2, layout: 'none' };
  });
}

function emitLayerCall(b: OnnxGraphBuilder, call: LayerCall, inputs: TensorValue[], options: LayersEmitOptions, soleConsumer: (i: number) => boolean): TensorValue[] {
  const { layer } = call;
  if (layer instanceof tf.LayersModel) {
    // A model used as a layer: its own layers, with our values as its inputs (without the outer truncation or pool).
    return emitLayersModel(b, layer, inputs, { dynamicSize: options.dynamicSize, customLayers: options.customLayers });
  }
  const className = layer.getClassName();
  const emitter = options.customLayers?.[className] ?? LAYER_EMITTERS[className];
  if (!emitter) throw new UnsupportedOnnxOpError(`layer ${className}`, `layer "${layer.name}"`);
  return emitter(layer, inputs, { b, dynamicSize: options.dynamicSize ?? false, soleConsumer, inputShapes: call.inputs.map(shapeOf) });
}

/** The [N, H, W, C]-style input shape of a single-input model, nulls where the size is chosen at run time. */
export function modelInputShape(model: tf.LayersModel): (number | null)[] {
  if (model.inputs.length !== 1) throw new OnnxExportError(`model ${model.name} has ${model.inputs.length} inputs; exports take one`);
  return shapeOf(model.inputs[0]);
}

/** The tfjs shape of what `emitLayersModel` returns for a single-output export with these options. */
export function emittedOutputShape(model: tf.LayersModel, options: LayersEmitOptions = {}): (number | null)[] {
  const t = options.outputLayer ? layerOutputIn(model, options.outputLayer) : model.outputs[0];
  const shape = shapeOf(t);
  return options.pool ? [shape[0], shape[shape.length - 1]] : shape;
}
