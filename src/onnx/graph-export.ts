import * as tf from '../tfjs/index.js';
import { OnnxExportError, UnsupportedOnnxOpError } from './errors.js';
import { exportStages, scalePixels, type OnnxStage, type PixelTransform } from './export.js';
import type { OnnxGraphBuilder } from './graph-builder.js';
import { GRAPH_OP_EMITTERS } from './graph-op-emitters.js';
import type { ComputedValue, ConstValue, GraphNodeDef, GraphOpEmitter, GraphValue, Shape } from './graph-values.js';
import type { TensorValue } from './values.js';

/**
 * TensorFlow.js graph models (a frozen TensorFlow graph, as `tf.loadGraphModel` reads it) to ONNX: the nodes on the
 * way from the model's input to the asked outputs, one by one (graph-op-emitters.ts), the weights as tfjs decodes
 * them (float16-quantised weights included). An op the exporter does not know is an UnsupportedOnnxOpError naming
 * the op and the node; nothing is exported then.
 */

/** A graph model read for export: its nodes by name, its constants decoded, its input placeholders in order. */
export interface ParsedGraphModel {
  nodes: Map<string, GraphNodeDef>;
  consts: Map<string, ConstValue>;
  placeholders: GraphNodeDef[];
}

/**
 * Read a graph model's artifacts (topology JSON and weights, e.g. `tf.io.fromMemory` input or what
 * `artifactsForShape` gives): the weights are decoded by tfjs itself, so the export holds exactly the values tfjs
 * computes with.
 */
export function readGraphModel(artifacts: tf.io.ModelArtifacts): ParsedGraphModel {
  const topology = artifacts.modelTopology as { node?: GraphNodeDef[] } | undefined;
  if (!topology || !Array.isArray(topology.node)) throw new OnnxExportError('not a graph model: its topology has no node list (a layers model? use exportLayersModel)');
  const nodes = new Map(topology.node.map((n) => [n.name, n]));
  const consts = new Map<string, ConstValue>();
  if (artifacts.weightSpecs && artifacts.weightData) {
    const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    try {
      for (const [name, t] of Object.entries(decoded)) {
        if (t.dtype !== 'float32' && t.dtype !== 'int32') {
          consts.set(name, { kind: 'const', name, dtype: t.dtype, shape: t.shape.slice(), data: new Float32Array(0) });
          continue;
        }
        const data = t.dataSync();
        consts.set(name, { kind: 'const', name, dtype: t.dtype, shape: t.shape.slice(), data: t.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data) });
      }
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }
  const placeholders = topology.node.filter((n) => n.op === 'Placeholder');
  return { nodes, consts, placeholders };
}

export interface GraphEmitOptions {
  /** The nodes (or `node:k` for a node's k-th output) whose values the export computes. */
  outputs: string[];
  /**
   * Height and width chosen at run time (default: fixed at the placeholder's shape, with explicit "SAME" pads).
   * Convolutions and pools then pad by TensorFlow's "SAME" rule at any size (SAME_UPPER).
   */
  dynamicSize?: boolean;
  /**
   * With `dynamicSize`: the graph's constant resize targets scale with its input (as this project's CenterNet
   * backbone's do, rewritten per input size), so each is written as the whole multiple it is of its input at the
   * placeholder's shape. Without it such a resize is an OnnxExportError under `dynamicSize`.
   */
  proportionalResize?: boolean;
  /** Emitters for ops the exporter does not know (by TensorFlow op name). */
  customOps?: Record<string, GraphOpEmitter>;
}

/** `name` or `name:k` as [node name, output index]; `^name` (a control input) as null. */
function parseRef(ref: string): [string, number] | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1], Number(m[2])] : [ref, 0];
}

/** The placeholder's shape (TensorFlow order), batch chosen at run time, -1 sizes as null. */
function placeholderShape(node: GraphNodeDef): Shape {
  const dims = node.attr?.shape?.shape?.dim;
  if (!dims) throw new OnnxExportError(`input "${node.name}" has no shape: the exporter needs its rank (and its height and width for fixed-size exports)`);
  return dims.map((d, i) => {
    const size = Number(d.size ?? -1);
    return i === 0 || size < 0 ? null : size;
  });
}

/**
 * Append the graph model to `b`, its placeholders reading `inputs` (one value each, in topology order), and return
 * the values of `options.outputs` with their shapes (TensorFlow order, at the placeholders' shapes).
 */
export function emitGraphModel(b: OnnxGraphBuilder, graph: ParsedGraphModel, inputs: TensorValue[], options: GraphEmitOptions): ComputedValue[] {
  if (inputs.length !== graph.placeholders.length) throw new OnnxExportError(`the graph model takes ${graph.placeholders.length} inputs, got ${inputs.length}`);
  const values = new Map<string, GraphValue[]>();
  graph.placeholders.forEach((p, i) => values.set(p.name, [{ kind: 'tensor', value: inputs[i], shape: placeholderShape(p) }]));
  const ctxBase = { b, dynamicSize: options.dynamicSize ?? false, proportionalResize: options.proportionalResize ?? false };
  const visiting = new Set<string>();

  const valueOf = (ref: string, reader: string): GraphValue => {
    const [name, index] = parseRef(ref)!;
    let outs = values.get(name);
    if (!outs) {
      const c = graph.consts.get(name);
      const node = graph.nodes.get(name);
      if (!node) throw new OnnxExportError(`node "${reader}" reads "${name}", which the graph does not have`);
      if (node.op === 'Const') {
        if (!c) throw new OnnxExportError(`constant "${name}" has no value in the weights`);
        outs = [c];
      } else if (node.op === 'Placeholder') throw new OnnxExportError(`input "${name}" is not one of the graph's placeholders`);
      else outs = emitNode(node);
      values.set(name, outs);
    }
    const v = outs[index];
    if (!v) throw new OnnxExportError(`node "${name}" has no output ${index} (read by "${reader}")`);
    return v;
  };

  const emitNode = (node: GraphNodeDef): GraphValue[] => {
    if (visiting.has(node.name)) throw new OnnxExportError(`the graph has a cycle through node "${node.name}"`);
    const emitter = options.customOps?.[node.op] ?? GRAPH_OP_EMITTERS[node.op];
    if (!emitter) throw new UnsupportedOnnxOpError(`op ${node.op}`, `node "${node.name}"`);
    visiting.add(node.name);
    const ins = (node.input ?? []).filter((r) => parseRef(r) !== null).map((r) => valueOf(r, node.name));
    visiting.delete(node.name);
    return emitter(ins, { ...ctxBase, node });
  };

  return options.outputs.map((ref) => {
    const v = valueOf(ref, 'the export');
    if (v.kind !== 'tensor') throw new OnnxExportError(`output "${ref}" is a constant of the graph, not computed from its input`);
    return v;
  });
}

export interface GraphStageOptions extends GraphEmitOptions {
  /**
   * Reduce each output (one entry per output) over height and width, 'max' or 'mean', and concatenate the results
   * into [N, sum of channels]: a backbone's feature recipe. Without it the stage has exactly one output.
   */
  pool?: ('max' | 'mean')[];
}

/** A stage (see export.ts) that runs the graph model on its input: its output, or its pooled outputs concatenated. */
export function graphStage(graph: ParsedGraphModel, options: GraphStageOptions, onShape?: (shape: Shape) => void): OnnxStage {
  return (b, x) => {
    const outs = emitGraphModel(b, graph, [x], options);
    if (!options.pool) {
      if (outs.length !== 1) throw new OnnxExportError(`a graph stage without pooling gives one output, ${outs.length} were asked`);
      onShape?.(outs[0].shape);
      return outs[0].value;
    }
    if (options.pool.length !== outs.length) throw new OnnxExportError(`${options.pool.length} pool modes for ${outs.length} outputs`);
    const pooled = outs.map((o, i) => {
      if (o.shape.length !== 4) throw new OnnxExportError(`output "${options.outputs[i]}" has rank ${o.shape.length}; pooling needs an image (rank 4)`);
      const axes = o.value.layout === 'nchw' ? [2, 3] : [1, 2];
      const op = options.pool![i] === 'max' ? 'ReduceMax' : 'ReduceMean';
      return b.node(op, [o.value.name], { axes: { ints: axes }, keepdims: { int: 0 } }, `${options.outputs[i]}/${options.pool![i]}_pool`);
    });
    const channels = outs.reduce<number | null>((sum, o) => (sum === null || o.shape[3] === null ? null : sum + o.shape[3]), 0);
    onShape?.([null, channels]);
    const name = pooled.length === 1 ? pooled[0] : b.node('Concat', pooled, { axis: { int: 1 } }, 'pooled_outputs');
    return { name, rank: 2, layout: 'none' };
  };
}

export interface GraphExportOptions extends GraphStageOptions {
  pixelTransform?: PixelTransform;
  inputName?: string;
  outputName?: string;
  /** The mean of the output on the image and on its mirror image (see StagesExportOptions). */
  mirrorMean?: boolean;
  /** Text stored in the model. */
  docString?: string;
}

/**
 * A single-input tfjs graph model as ONNX model bytes: the input float32 NHWC as the graph takes it (batch chosen at
 * run time; height and width fixed at the placeholder's shape unless `dynamicSize`), out the asked output (NHWC
 * for images) or the pooled outputs concatenated.
 */
export function exportGraphModel(artifacts: tf.io.ModelArtifacts | ParsedGraphModel, options: GraphExportOptions): Uint8Array {
  const graph = 'placeholders' in artifacts ? artifacts : readGraphModel(artifacts);
  if (graph.placeholders.length !== 1) throw new OnnxExportError(`the graph model has ${graph.placeholders.length} inputs; exports take one`);
  const inputShape = placeholderShape(graph.placeholders[0]);
  if (options.dynamicSize && inputShape.length === 4) inputShape.splice(1, 2, null, null);
  let outputShape: Shape = [];
  const stage = graphStage(graph, options, (shape) => {
    outputShape = shape.slice();
    if (options.dynamicSize && outputShape.length === 4) outputShape.splice(1, 2, null, null);
  });
  return exportStages([...(options.pixelTransform ? [scalePixels(options.pixelTransform)] : []), stage], {
    inputShape,
    outputShape: () => outputShape,
    inputName: options.inputName,
    outputName: options.outputName,
    mirrorMean: options.mirrorMean,
    docString: options.docString ?? `graph model to ${options.outputs.join(', ')}${options.pool ? ` (pooled: ${options.pool.join(', ')})` : ''}`,
  });
}
