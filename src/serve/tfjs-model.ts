import fs from 'node:fs/promises';
import path from 'node:path';
import { selectBackend } from '../model/backend.js';
import type { PromotedModel } from '../registry/types.js';
import { predictProbabilities } from '../model/predict.js';
import { backboneSizesOf, loadModel, MODEL_JSON, type LayersModelJson } from '../model/io.js';
import { photoFeatureViews, type PhotoFeatureViews } from '../model/photo-features.js';
import { MicroBatcher } from './micro-batcher.js';
import type { ServingModel } from './model-holder.js';
import { InferencePool, servingWorkers } from './inference-pool.js';

export interface TfjsServingOptions {
  maxBatch?: number;
  /**
   * Inference worker threads, each with its own backend and copy of the model (default AREYOUACAT_SERVE_WORKERS,
   * else one per core). 0 runs inference on the main thread, which blocks the event loop during forward passes.
   */
  workers?: number;
  /** Called after every forward pass with the batch size and its time in ms (for metrics). */
  onBatch?: (size: number, ms: number) => void;
  /** Where worker crashes and replacements are reported. */
  log?: (message: string) => void;
  /** Longest wait plus run time of one batch in the pool (ms). */
  batchTimeoutMs?: number;
}

/** The pool behind a ServingModel loaded with workers (tests reach it to inject faults). */
export const POOL = Symbol('inference pool');

export type PooledServingModel = ServingModel & { [POOL]?: InferencePool };

type Backend = 'wasm' | 'cpu' | 'tensorflow' | undefined;

/**
 * Load a promoted model for serving: the model API's `loadModel` on the version folder, on the fastest backend
 * available, with concurrent requests batched into forward passes of the model API's `predictProbabilities`. By default
 * the passes run in a pool of worker threads (one batch per idle worker); every worker runs one warm-up pass before
 * the model is handed out, so the first request is not slow. Disposing the model terminates its workers.
 */
export async function loadTfjsServingModel(promoted: PromotedModel, options: TfjsServingOptions = {}): Promise<PooledServingModel> {
  const size = promoted.card.imageSize;
  const pixelsPerImage = size * size * 3;
  const workers = servingWorkers(options.workers);
  const backend = process.env.AREYOUACAT_BACKEND as Backend;
  let forward: (pixels: Uint8Array, n: number) => Promise<Float32Array>;
  let features: ((photo: Uint8Array, maxPixels: number) => Promise<PhotoFeatureViews>) | undefined;
  let release: () => void;
  const json = JSON.parse(await fs.readFile(path.join(promoted.dir, MODEL_JSON), 'utf8')) as LayersModelJson;
  const onBackbone = backboneSizesOf(json).length > 0;
  let pool: InferencePool | undefined;
  if (workers > 0) {
    pool = await InferencePool.start({
      modelDir: promoted.dir,
      version: promoted.version,
      imageSize: size,
      size: workers,
      backend,
      onBatch: options.onBatch,
      log: options.log,
      batchTimeoutMs: options.batchTimeoutMs,
    });
    const p = pool;
    forward = (pixels, n) => p.run(pixels, n);
    if (onBackbone) features = (photo, maxPixels) => p.features(photo, maxPixels);
    release = () => void p.close();
  } else {
    await selectBackend({ prefer: backend });
    const model = await loadModel(promoted.dir);
    const inputShape = model.inputs[0]?.shape;
    if (inputShape && (inputShape[1] !== size || inputShape[2] !== size || inputShape[3] !== 3)) {
      model.dispose();
      throw new Error(`model v${promoted.version} expects input ${JSON.stringify(inputShape)}, its card says ${size}x${size}x3`);
    }
    // The evaluation's batched prediction, so serving scales inputs exactly as evaluation did.
    forward = async (pixels, n) => {
      const t0 = performance.now();
      const probs = await predictProbabilities(model, { n, size, pixels }, n);
      options.onBatch?.(n, performance.now() - t0);
      return probs;
    };
    await forward(new Uint8Array(pixelsPerImage), 1);
    if (onBackbone) features = (photo, maxPixels) => photoFeatureViews(photo, { imageSize: size, maxPixels });
    release = () => model.dispose();
  }
  const runBatch = async (items: Uint8Array[]): Promise<number[]> => {
    const pixels = new Uint8Array(items.length * pixelsPerImage);
    items.forEach((px, i) => pixels.set(px, i * pixelsPerImage));
    return Array.from(await forward(pixels, items.length));
  };
  const batcher = new MicroBatcher(runBatch, options.maxBatch ?? 32, Math.max(1, workers));
  return {
    version: promoted.version,
    threshold: promoted.card.threshold,
    imageSize: size,
    card: promoted.card,
    predict: (pixels) => {
      if (pixels.length !== pixelsPerImage) {
        return Promise.reject(new Error(`expected ${pixelsPerImage} prepared bytes (${size}x${size}x3), got ${pixels.length}`));
      }
      return batcher.submit(pixels);
    },
    ...(features ? { features } : {}),
    dispose: release,
    [POOL]: pool,
  };
}
