import type { ImageDecodeErrorKind } from '../data/errors.js';
import type { PhotoFeatureViews } from '../model/photo-features.js';

/** What an inference worker thread is started with (its workerData). */
export interface WorkerSetup {
  /** file: URL of the worker module, imported by the bootstrap. */
  workerModule: string;
  modelDir: string;
  version: number;
  imageSize: number;
  backend?: 'wasm' | 'cpu' | 'tensorflow';
}

/**
/**
 * Main thread to worker: a batch of `n` prepared images of one shape (height x width, the model's square unless
 * a backbone model's whole views; the buffer is transferred), one photo file whose backbone features (every
 * training view) are wanted (the buffer is transferred, and dropped by the worker once done), or a fault-injection
 * exit.
 */
export type PoolRequest =
  | { type: 'run'; id: number; n: number; pixels: Uint8Array; height: number; width: number }
  | { type: 'features'; id: number; photo: Uint8Array; maxPixels: number }
  | { type: 'exit'; code: number };

/** Worker to main thread. */
export type PoolResponse =
  | { type: 'ready'; backend: string }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; probs: Float32Array; ms: number; startedAt: number; endedAt: number }
  | { type: 'features-result'; id: number; features: PhotoFeatureViews; ms: number }
  /** `decodeKind`: the photo could not be decoded (an ImageDecodeError of that kind), a client error. */
  | { type: 'error'; id: number; message: string; decodeKind?: ImageDecodeErrorKind };
