import { COCO_CENTERNET } from '../model-files/catalog.js';
import { cachedOnnxExport, exportGraphModel, graphStage, readGraphModel, type CachedOnnxExport, type GraphExportOptions, type OnnxStage } from '../onnx/index.js';
import { backboneArtifacts, BACKBONE_FEATURES, BACKBONE_ID, checkBackboneShape, FEATURE_RECIPE, NATIVE_SIZE } from './backbone.js';

/**
 * The COCO CenterNet backbone's FEATURE_RECIPE as ONNX, written by the graph-model exporter from the vendored graph
 * itself: RGB 0..255 NHWC in (the graph takes raw pixels, as `backboneFeatures` feeds it), the three recipe nodes
 * reduced over height and width (max, mean, mean) and concatenated, [n, 688] out: what `backboneFeatures` computes
 * on tfjs.
 *
 * The engine's export takes any height and width the backbone accepts (multiples of 32, 64-1024) in one graph:
 * "SAME" padding follows TensorFlow's rule at every size, and the three upsampling targets, which the tfjs path
 * rewrites per input shape as 512-scale sizes times height / 512 (`artifactsForShape`), are each exactly twice their
 * input at every such size, so they are written as resizes by their factor at the native 512 (proportionalResize).
 * A fixed-shape export (explicit pads, the rewritten sizes themselves) is available for one shape.
 */

/** How the recipe is exported (plain data: part of the cache key). */
export const CENTERNET_FEATURE_EXPORT = {
  outputs: FEATURE_RECIPE.nodes,
  pool: FEATURE_RECIPE.reducers,
} as const satisfies Pick<GraphExportOptions, 'outputs' | 'pool'>;

/** Export options for the recipe: any accepted size (default), or fixed at `shape`. */
function exportOptions(shape?: { height: number; width: number }): GraphExportOptions {
  const recipe = { outputs: [...CENTERNET_FEATURE_EXPORT.outputs], pool: [...CENTERNET_FEATURE_EXPORT.pool] };
  if (shape) return { ...recipe, outputName: 'features' };
  return { ...recipe, dynamicSize: true, proportionalResize: true, outputName: 'features' };
}

/** The recipe as ONNX model bytes (RGB 0..255 NHWC in, [n, 688] out): any accepted size, or fixed at `shape`. */
export async function exportCenternetFeatures(shape?: { height: number; width: number }): Promise<Uint8Array> {
  if (shape) checkBackboneShape(shape.height, shape.width);
  const artifacts = await backboneArtifacts(shape?.height ?? NATIVE_SIZE, shape?.width ?? NATIVE_SIZE);
  const options = exportOptions(shape);
  return exportGraphModel(artifacts, {
    ...options,
    docString: `${BACKBONE_ID} features (${BACKBONE_FEATURES}): RGB 0..255 NHWC in, ${FEATURE_RECIPE.nodes.map((n, i) => `${FEATURE_RECIPE.reducers[i]} of ${n}`).join(', ')} out; ${shape ? `${shape.height}x${shape.width} input` : 'height and width multiples of 32 (64-1024)'}`,
  });
}

/**
 * The engine's export of the recipe, cached by content: the backbone files' pinned SHA-256, the recipe, the shape
 * (or that it takes any accepted size) and the exporter version.
 */
export async function centernetFeatureExport(shape?: { height: number; width: number }, dir?: string): Promise<CachedOnnxExport> {
  const content = COCO_CENTERNET.files.map((f) => `${f.name}:${f.sha256}`);
  const options = { backbone: BACKBONE_ID, ...CENTERNET_FEATURE_EXPORT, shape: shape ? `${shape.height}x${shape.width}` : 'any multiple of 32' };
  return cachedOnnxExport({ content, options, dir }, () => exportCenternetFeatures(shape));
}

/** The recipe as a stage of a larger export (a whole model: backbone + head), any accepted height and width. */
export async function centernetFeatureStages(): Promise<OnnxStage[]> {
  const graph = readGraphModel(await backboneArtifacts(NATIVE_SIZE, NATIVE_SIZE));
  const { outputName: _, ...options } = exportOptions();
  return [graphStage(graph, options)];
}
