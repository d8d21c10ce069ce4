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
 * Main thread to worker: a batch of `n` prepared images of one shape (height x width, the model's square unless
 * a backbone model's whole views; the buffer is transferred), or a fault-injection exit.
 */
export type PoolRequest = { type: 'run'; id: number; n: number; pixels: Uint8Array; height: number; width: number } | { type: 'exit'; code: number };

/** Worker to main thread. */
export type PoolResponse =
  | { type: 'ready'; backend: string }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; probs: Float32Array; ms: number; startedAt: number; endedAt: number }
  | { type: 'error'; id: number; message: string };
