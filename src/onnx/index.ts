export { UnsupportedOnnxOpError, OnnxExportError } from './errors.js';
export { OnnxGraphBuilder, type Dim, type Attribute } from './graph-builder.js';
export { type TensorValue, type Layout, asNchw, asNhwc } from './values.js';
export { LAYER_EMITTERS, type LayerEmitter, type EmitContext } from './layer-emitters.js';
export { emitLayersModel, type LayersEmitOptions } from './layers-export.js';
export {
  exportLayersModel,
  exportStages,
  layersStage,
  scalePixels,
  mirrorImage,
  stageAsLayer,
  type OnnxStage,
  type PixelTransform,
  type StagesExportOptions,
  type LayersExportOptions,
} from './export.js';
export { cachedOnnxExport, onnxExportKey, layersModelContent, defaultOnnxCacheDir, ONNX_EXPORTER_VERSION, type CachedOnnxExport } from './cache.js';
export {
  loadOnnxRuntime,
  defaultIntraOpThreads,
  OnnxSession,
  OnnxRuntimeUnavailableError,
  type OnnxRuntimeLoad,
  type OnnxSessionOptions,
  type FloatTensor,
} from './runtime.js';
export { readGraphModel, emitGraphModel, graphStage, exportGraphModel, type ParsedGraphModel, type GraphEmitOptions, type GraphStageOptions, type GraphExportOptions } from './graph-export.js';
export { GRAPH_OP_EMITTERS } from './graph-op-emitters.js';
export type { GraphNodeDef, GraphValue, GraphOpEmitter, GraphEmitContext } from './graph-values.js';
