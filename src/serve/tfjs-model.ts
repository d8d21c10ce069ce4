import fs from 'node:fs/promises';
import path from 'node:path';
import { selectBackend } from '../model/backend.js';
import type { PromotedModel } from '../registry/types.js';
import { isWholeViewShape, type ViewShape } from '../data/whole-view.js';
import { predictPhotoViews } from '../model/predict.js';
import { loadModel, MODEL_JSON, savedModelReadsWholeViews, usableBackboneLayers, type LayersModelJson } from '../model/io.js';
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
 * available, with concurrent requests batched (by input shape) into forward passes of the model API's
 * `predictPhotoViews` (a backbone model's whole views of any allowed shape, a CNN's squares). By default
 * the passes run in a pool of worker threads (one batch per idle worker); every worker runs one warm-up pass before
 * the model is handed out, so the first request is not slow. Disposing the model terminates its workers.
 */
export async function loadTfjsServingModel(promoted: PromotedModel, options: TfjsServingOptions = {}): Promise<PooledServingModel> {
  const size = promoted.card.imageSize;
  const wholeView = await savedModelReadsWholeViews(promoted.dir);
  const workers = servingWorkers(options.workers);
  const backend = process.env.AREYOUACAT_BACKEND as Backend;
  let forward: (pixels: Uint8Array, n: number, shape: ViewShape) => Promise<Float32Array>;
  let features: ((photo: Uint8Array, maxPixels: number) => Promise<PhotoFeatureViews>) | undefined;
  let release: () => void;
  const json = JSON.parse(await fs.readFile(path.join(promoted.dir, MODEL_JSON), 'utf8')) as LayersModelJson;
  const backboneLayers = usableBackboneLayers(json);
  const onBackbone = backboneLayers.length > 0;
  let pool: InferencePool | undefined;
  if (workers > 0) {
    pool = await InferencePool.start({
      modelDir: promoted.dir,
      version: promoted.version,
      imageSize: size,
      size: workers,
      backend,
      backbones: backboneLayers.map((l) => l.backbone),
      onBatch: options.onBatch,
      log: options.log,
      batchTimeoutMs: options.batchTimeoutMs,
    });
    const p = pool;
    forward = (pixels, n, shape) => p.run(pixels, n, shape.height, shape.width);
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
    // The evaluation's prediction entry point, so serving scales inputs exactly as evaluation did.
    forward = async (pixels, n, { height, width }) => {
      const t0 = performance.now();
      const per = height * width * 3;
      const views = Array.from({ length: n }, (_, i) => ({ height, width, pixels: pixels.subarray(i * per, (i + 1) * per) }));
      const probs = await predictPhotoViews(model, views, n);
      options.onBatch?.(n, performance.now() - t0);
      return probs;
    };
    await forward(new Uint8Array(size * size * 3), 1, { height: size, width: size });
    if (onBackbone) features = (photo, maxPixels) => photoFeatureViews(photo, { backbone: backboneLayers[0].backbone, imageSize: size, maxPixels });
    release = () => model.dispose();
  }
  // One forward pass per shape in the batch (each shape has its own backbone graph).
  const runBatch = async (items: Array<{ pixels: Uint8Array; shape: ViewShape }>): Promise<number[]> => {
    const groups = new Map<string, number[]>();
    items.forEach((item, i) => {
      const key = `${item.shape.height}x${item.shape.width}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const out = new Array<number>(items.length);
    await Promise.all(
      [...groups.values()].map(async (indices) => {
        const shape = items[indices[0]].shape;
        const per = shape.height * shape.width * 3;
        const pixels = new Uint8Array(indices.length * per);
        indices.forEach((index, j) => pixels.set(items[index].pixels, j * per));
        const probs = await forward(pixels, indices.length, shape);
        indices.forEach((index, j) => (out[index] = probs[j]));
      }),
    );
    return out;
  };
  const batcher = new MicroBatcher(runBatch, options.maxBatch ?? 32, Math.max(1, workers));
  return {
    version: promoted.version,
    threshold: promoted.card.threshold,
    imageSize: size,
    card: promoted.card,
    wholeView,
    predict: (pixels, shape = { width: size, height: size }) => {
      const square = shape.width === size && shape.height === size;
      if (!square && !(wholeView && isWholeViewShape(shape, size))) {
        return Promise.reject(new Error(`model v${promoted.version} takes ${wholeView ? `whole views with a shorter side of ${size} px` : `${size}x${size} images`}, got ${shape.width}x${shape.height}`));
      }
      const bytes = shape.width * shape.height * 3;
      if (pixels.length !== bytes) {
        return Promise.reject(new Error(`expected ${bytes} prepared bytes (${shape.height}x${shape.width}x3), got ${pixels.length}`));
      }
      return batcher.submit({ pixels, shape });
    },
    ...(features ? { features } : {}),
    dispose: release,
    [POOL]: pool,
  };
}
