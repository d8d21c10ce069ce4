import type * as tf from '../tfjs/index.js';
import { exportStages, layersStage, scalePixels, type OnnxStage } from '../onnx/index.js';
import { BACKBONE_ID as CENTERNET_ID } from './backbone.js';
import { headOf, pretrainedBackboneOf } from './backbone-layer.js';
import { centernetFeatureStages } from './centernet-onnx.js';
import { IMAGENET_BACKBONE_ID, loadImagenetNet } from './imagenet-mobilenet.js';
import { imagenetFeatureStages } from './imagenet-onnx.js';

/**
 * A whole model (what the server answers for a photo) as one ONNX graph. The input contract, for every model:
 *
 *   pixels  float32 [batch, height, width, 3], NHWC, RGB 0..255: the prepared view's bytes as floats, exactly what
 *           `predictPhotoViews` receives. A backbone model takes the whole view (shorter side = image size, longer
 *           side a multiple of 32 up to twice it; height and width are chosen at run time, one shape per call); the
 *           CNN from scratch takes its imageSize x imageSize square.
 *   p_cat   float32 [batch, 1]: P(cat). For a backbone model the mean of the head on the view and on its mirror
 *           image (the mirror mean), as served.
 */
export const ONNX_INPUT_NAME = 'pixels';
export const ONNX_OUTPUT_NAME = 'p_cat';

/** A model that cannot be written as one ONNX file yet; `backbone` names the backbone and the message says why. */
export class OnnxModelExportUnsupportedError extends Error {
  override readonly name = 'OnnxModelExportUnsupportedError';
  constructor(
    readonly backbone: string,
    readonly reason: string,
  ) {
    super(`a model on the ${backbone} backbone cannot be exported to ONNX: ${reason}`);
  }
}

/** Backbones whose features the exporter can write as ONNX stages (0..255 pixels in, the recipe's features out). */
const BACKBONE_STAGES: Record<string, () => Promise<OnnxStage[]>> = {
  [IMAGENET_BACKBONE_ID]: async () => imagenetFeatureStages(await loadImagenetNet()),
  // The vendored graph model through the graph-model exporter (centernet-onnx.ts).
  [CENTERNET_ID]: centernetFeatureStages,
};

/** Whether a model on `backbone` (an id; null for the CNN from scratch) can be exported, and if not why, without loading anything. */
export function onnxExportSupport(backbone: string | null): { supported: true; reason?: undefined } | { supported: false; reason: string } {
  if (backbone === null || backbone in BACKBONE_STAGES) return { supported: true };
  return { supported: false, reason: `the exporter has no ONNX stages for the backbone "${backbone}"` };
}

export interface WholeModelOnnx {
  bytes: Uint8Array;
  inputName: typeof ONNX_INPUT_NAME;
  outputName: typeof ONNX_OUTPUT_NAME;
  /** [batch, height, width, 3], null where chosen at run time. */
  inputShape: (number | null)[];
  /** [batch, 1]. */
  outputShape: (number | null)[];
  /** The backbone's id, or null for the CNN from scratch. */
  backbone: string | null;
  /** Whether p_cat is the mean over the view and its mirror image (backbone models). */
  mirrorMean: boolean;
}

/**
 * Export a loaded model (a backbone model: backbone + head; or the CNN from scratch) as one ONNX graph with the
 * input contract above. A backbone without an ONNX export throws OnnxModelExportUnsupportedError.
 */
export async function exportWholeModelOnnx(model: tf.LayersModel): Promise<WholeModelOnnx> {
  const layer = pretrainedBackboneOf(model);
  const io = { inputName: ONNX_INPUT_NAME, outputName: ONNX_OUTPUT_NAME } as const;
  if (!layer) {
    const [, height, width, channels] = model.inputs[0].shape;
    if (model.inputs.length !== 1 || model.inputs[0].shape.length !== 4 || channels !== 3) {
      throw new Error(`model ${model.name} does not take one batch of RGB images (input shape [${model.inputs[0].shape.join(', ')}])`);
    }
    const inputShape = [null, height, width, 3];
    const outputShape = [null, 1];
    // The CNN reads RGB in [0, 1] (bytes / 255); the graph scales the 0..255 input itself.
    const stages = [scalePixels({ scale: 1 / 255, offset: 0 }), layersStage(model)];
    const bytes = exportStages(stages, { ...io, inputShape, outputShape, docString: `${model.name}: RGB 0..255 NHWC pixels in, p_cat out` });
    return { ...io, bytes, inputShape, outputShape, backbone: null, mirrorMean: false };
  }
  const support = onnxExportSupport(layer.backbone);
  if (!support.supported) throw new OnnxModelExportUnsupportedError(layer.backbone, support.reason);
  const featureStages = await BACKBONE_STAGES[layer.backbone]();
  const inputShape = [null, null, null, 3];
  const outputShape = [null, 1];
  const bytes = exportStages([...featureStages, layersStage(headOf(model, layer))], {
    ...io,
    inputShape,
    outputShape,
    mirrorMean: true,
    docString: `${model.name} on ${layer.backbone} (image size ${layer.imageSize}, view ${layer.view}): RGB 0..255 NHWC whole view in, p_cat out (mean over the view and its mirror image)`,
  });
  return { ...io, bytes, inputShape, outputShape, backbone: layer.backbone, mirrorMean: true };
}
