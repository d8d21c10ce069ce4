import { exportLayersModel, layersStage, scalePixels, type LayersExportOptions, type OnnxStage } from '../onnx/index.js';
import { IMAGENET_CAT_CLASSES, IMAGENET_DOG_CLASSES, IMAGENET_FEATURE_LAYER, IMAGENET_POOLED, LOG_ODDS_LIMIT, type ImagenetNet } from './imagenet-mobilenet.js';

/**
 * The ImageNet MobileNet recipe (`withCatDogLogOdds`) as ONNX stages, so a whole model on this backbone is one graph:
 * RGB 0..255 pixels scaled to [-1, 1], the network up to `conv_pw_13_relu` pooled over height and width (768), then
 * the classifier's cat and dog log-odds appended in the graph (770).
 */

/** How the pooled network is exported (any input height and width): shared by ONNX Runtime features and whole-model exports. */
export const IMAGENET_POOLED_EXPORT = {
  outputLayer: IMAGENET_FEATURE_LAYER,
  pool: 'mean',
  dynamicSize: true,
  pixelTransform: { scale: 1 / 127.5, offset: -1 },
} as const satisfies LayersExportOptions;

/** The pooled network alone as ONNX bytes: RGB 0..255 NHWC in, [n, 768] out (what `finish` completes). */
export function exportImagenetPooled(net: ImagenetNet): Uint8Array {
  return exportLayersModel(net.full, IMAGENET_POOLED_EXPORT);
}

/**
 * A stage from the pooled [n, 768] to the recipe's [n, 770]: logits = pooled x kernel + bias, softmax, the cat
 * classes' and the dog breeds' probabilities summed, each clipped to [1e-6, 1 - 1e-6] and turned into log-odds,
 * concatenated after the pooled values. The same ops, in the same order, as `withCatDogLogOdds` in tfjs.
 */
export function catDogLogOddsStage(classifier: ImagenetNet['classifier']): OnnxStage {
  const kernel = Float32Array.from(classifier.kernel.dataSync());
  const bias = Float32Array.from(classifier.bias.dataSync());
  const classes = bias.length;
  return (b, x) => {
    if (x.rank !== 2) throw new Error(`the cat/dog log-odds stage reads pooled features [n, ${IMAGENET_POOLED}], got a rank-${x.rank} value`);
    const logits = b.node('Add', [b.node('MatMul', [x.name, b.floatConstant('imagenet/classifier_kernel', kernel, [IMAGENET_POOLED, classes])], {}, 'imagenet/matmul'), b.floatConstant('imagenet/classifier_bias', bias, [classes])], {}, 'imagenet/logits');
    const probs = b.node('Softmax', [logits], { axis: { int: 1 } }, 'imagenet/probs');
    const low = b.scalar('logodds/low', LOG_ODDS_LIMIT);
    const high = b.scalar('logodds/high', 1 - LOG_ODDS_LIMIT);
    const one = b.scalar('logodds/one', 1);
    const sumAxes = b.int64Constant('logodds/sum_axes', [1]);
    const logOddsOf = (name: string, indices: readonly number[]) => {
      const picked = b.node('Gather', [probs, b.int64Constant(`${name}/classes`, indices)], { axis: { int: 1 } }, `${name}/probs`);
      const p = b.node('ReduceSum', [picked, sumAxes], { keepdims: { int: 1 } }, `${name}/p`);
      const c = b.node('Clip', [p, low, high], {}, `${name}/clipped`);
      return b.node('Sub', [b.node('Log', [c], {}, `${name}/log_p`), b.node('Log', [b.node('Sub', [one, c], {}, `${name}/one_minus_p`)], {}, `${name}/log_not_p`)], {}, `${name}/log_odds`);
    };
    const cat = logOddsOf('cat', IMAGENET_CAT_CLASSES);
    const dog = logOddsOf('dog', IMAGENET_DOG_CLASSES);
    return { name: b.node('Concat', [x.name, cat, dog], { axis: { int: 1 } }, 'imagenet/features'), rank: 2, layout: 'none' };
  };
}

/** The recipe's stages: 0..255 pixels (any height and width) to the 770 features. */
export function imagenetFeatureStages(net: ImagenetNet): OnnxStage[] {
  const { pixelTransform, ...emit } = IMAGENET_POOLED_EXPORT;
  return [scalePixels(pixelTransform), layersStage(net.full, emit), catDogLogOddsStage(net.classifier)];
}
