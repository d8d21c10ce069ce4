export { selectBackend, wasmBinaryDir, type SelectBackendOptions } from './backend.js';
export { registerWasmTrainingKernels } from './wasm-kernels.js';
export {
  buildCnn,
  filtersPerBlock,
  validateHyperparameters,
  REFERENCE_HYPERPARAMETERS,
  type CnnHyperparameters,
} from './cnn.js';
export { DEFAULT_AUGMENTATION, resolveAugmentation, type AugmentationOptions } from './augment.js';
export { imageBatch, type PixelImages } from './batches.js';
export { trainModel, trainStep, type TrainOptions, type TrainResult, type EpochLogs, type BatchLogs, type TrainCallbacks } from './train.js';
export { predictPhotoViews, predictProbabilities, predictSquares, squareViews } from './predict.js';
export { imagesAsPhotos, photoFeatureViews, photosOf, photoWholeView, type PhotoReader } from './photo-features.js';
export { binaryLossAndAccuracy } from './training-metrics.js';
export { saveModel, loadModel, readModelMetadata, artifactsFromFiles, MODEL_JSON, WEIGHTS_BIN, type LayersModelJson } from './io.js';
