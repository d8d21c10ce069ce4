import { selectBackend } from '../model/backend.js';
import type { PromotedModel } from '../registry/types.js';
import { predictProbabilities } from '../model/predict.js';
import { loadModel } from '../model/io.js';
import { MicroBatcher } from './micro-batcher.js';
import type { ServingModel } from './model-holder.js';

export interface TfjsServingOptions {
  maxBatch?: number;
  /** Called after every forward pass with the batch size and its time in ms (for metrics). */
  onBatch?: (size: number, ms: number) => void;
}

/**
 * Load a promoted model for serving: the model API's `loadModel` on the version folder, on the fastest backend available,
 * with concurrent requests batched into one forward pass of the model API's `predictProbabilities`. One warm-up pass runs before the model is handed out, so the first request is not slow.
 */
export async function loadTfjsServingModel(promoted: PromotedModel, options: TfjsServingOptions = {}): Promise<ServingModel> {
  await selectBackend({ prefer: process.env.AREYOUACAT_BACKEND as 'wasm' | 'cpu' | 'tensorflow' | undefined });
  const model = await loadModel(promoted.dir);
  const size = promoted.card.imageSize;
  const inputShape = model.inputs[0]?.shape;
  if (inputShape && (inputShape[1] !== size || inputShape[2] !== size || inputShape[3] !== 3)) {
    model.dispose();
    throw new Error(`model v${promoted.version} expects input ${JSON.stringify(inputShape)}, its card says ${size}x${size}x3`);
  }
  const pixelsPerImage = size * size * 3;
  // The evaluation's batched prediction, so serving scales inputs exactly as evaluation did.
  const runBatch = async (items: Uint8Array[]): Promise<number[]> => {
    const pixels = new Uint8Array(items.length * pixelsPerImage);
    items.forEach((px, i) => pixels.set(px, i * pixelsPerImage));
    const t0 = performance.now();
    const probs = Array.from(await predictProbabilities(model, { n: items.length, size, pixels }, items.length));
    options.onBatch?.(items.length, performance.now() - t0);
    return probs;
  };
  await runBatch([new Uint8Array(pixelsPerImage)]);
  const batcher = new MicroBatcher(runBatch, options.maxBatch ?? 32);
  return {
    version: promoted.version,
    threshold: promoted.card.threshold,
    imageSize: size,
    card: promoted.card,
    predict: (pixels) => batcher.submit(pixels),
    dispose: () => model.dispose(),
  };
}
