import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../storage/paths.js';
import { ImageDecodeError } from '../data/errors.js';
import type { PhotoFeatureViews } from '../model/photo-features.js';
import { engineEnvForWorkers, ORT_THREADS_ENV } from '../model/engine.js';
import { HttpError } from './http-errors.js';
import type { PoolRequest, PoolResponse, WorkerSetup } from './inference-messages.js';

export const SERVE_WORKERS_ENV = 'AREYOUACAT_SERVE_WORKERS';

/** Pool size: an explicit number, else AREYOUACAT_SERVE_WORKERS, else one per core. */
export function servingWorkers(explicit?: number): number {
  const fromEnv = process.env[SERVE_WORKERS_ENV];
  const n = explicit ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : os.availableParallelism());
  if (!Number.isInteger(n) || n < 0) throw new Error(`the number of inference workers must be an integer >= 0 (got ${explicit ?? fromEnv})`);
  return n;
}

export interface InferencePoolOptions {
  modelDir: string;
  version: number;
  imageSize: number;
  /** Worker threads (at least 1). */
  size: number;
  backend?: WorkerSetup['backend'];
  /** The pretrained backbones of the model (default: any), to settle their engine once for every worker. */
  backbones?: readonly string[];
  /** Longest time a worker may take to load the model and answer its warm-up pass (ms; default 180 s). */
  startTimeoutMs?: number;
  /** Longest time a batch may wait for a worker plus run on it (ms; default 60 s). A stuck worker is replaced. */
  batchTimeoutMs?: number;
  /** After every forward pass: batch size, its time in the worker (ms), and when and where it ran. */
  onBatch?: (size: number, ms: number, detail: BatchDetail) => void;
  /** A worker died or was replaced (for the server log). */
  log?: (message: string) => void;
}

export interface BatchDetail {
  threadId: number;
  /** Wall-clock start and end of the forward pass (epoch ms). */
  startedAt: number;
  endedAt: number;
}

interface Job {
  /** Images in the batch (1 for a features request). */
  n: number;
  /** What the worker is sent once it is free (its buffer is transferred). */
  request: PoolRequest & { type: 'run' | 'features' };
  resolve: (answer: Extract<PoolResponse, { type: 'result' | 'features-result' }>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  slot: Slot | null;
  id: number;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

function workerFiles(): { bootstrap: string; workerModule: string } {
  // Located from the project root (as the tuning process pool does): no import.meta, so notebooks can import this.
  const dir = path.join(projectRoot(), 'src', 'serve');
  return { bootstrap: path.join(dir, 'inference-worker-bootstrap.mjs'), workerModule: pathToFileURL(path.join(dir, 'inference-worker.ts')).href };
}

const unavailable = (message: string) => new HttpError(503, 'inference_unavailable', message);

/**
 * A fixed number of worker threads, each with its own TensorFlow.js backend and copy of one model, running batches
 * of prepared pixels. The pixel buffer of a batch is transferred to the worker and the probabilities are transferred
 * back (no copies). A worker that dies is replaced and the batch it was running fails with a 503; a batch that waits
 * or runs longer than `batchTimeoutMs` fails too (its worker, if stuck, is replaced). `close` terminates the threads.
 */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly all = new Set<Worker>();
  private spawning = 0;
  private nextId = 1;
  private closed = false;
  private readonly log: (message: string) => void;

  private constructor(private readonly options: InferencePoolOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Start the pool and resolve once its first worker has loaded the model (or fail, terminating it): the model
   * answers from then on, and a model swap does not wait for every thread. The other workers start after the first
   * (on a busy machine they would only slow it down) and join as they become ready; `allStarted` tells when.
   */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options);
    try {
      await pool.spawn();
    } catch (err) {
      await pool.close();
      throw err;
    }
    pool.rest = Promise.all(
      Array.from({ length: pool.size - 1 }, () =>
        pool.spawn().catch((err: Error) => {
          if (pool.closed) return;
          pool.log(`inference worker failed to start: ${err.message}`);
          pool.replace(1);
        }),
      ),
    ).then(() => undefined);
    return pool;
  }

  private rest: Promise<void> = Promise.resolve();

  /** Resolves when every worker of the initial pool has started (or failed to, and is being retried). */
  allStarted(): Promise<void> {
    return this.rest;
  }

  /** Threads that are started and not yet exited, ready or still loading. */
  get threadCount(): number {
    return this.all.size;
  }

  /** Ready worker threads (tests use them to inject faults). */
  get workers(): Worker[] {
    return this.slots.map((s) => s.worker);
  }

  get size(): number {
    return Math.max(1, this.options.size);
  }

  /**
   * p(cat) of `n` prepared images in one buffer of n x height x width x 3 bytes (default imageSize squares; a backbone
   * model's whole views may have other shapes), transferred: do not reuse it.
   */
  async run(pixels: Uint8Array, n: number, height: number = this.options.imageSize, width: number = height): Promise<Float32Array> {
    const id = this.nextId++;
    const answer = await this.submit(n, { type: 'run', id, n, pixels, height, width });
    if (answer.type !== 'result') throw new Error(`inference worker answered ${answer.type} to a batch`);
    if (answer.probs.length !== n) throw new Error(`worker returned ${answer.probs.length} results for ${n} images`);
    return answer.probs;
  }

  /**
   * The backbone features of one photo file in every training view, computed in a worker by the model library's
   * `photoFeatureViews` (a copy of the photo goes to the worker, which drops it when done). A photo that cannot be decoded rejects
   * with an ImageDecodeError.
   */
  async features(photo: Uint8Array, maxPixels: number): Promise<PhotoFeatureViews> {
    const id = this.nextId++;
    // A copy of its own: a small Buffer may sit in Node's shared pool, whose memory must not be transferred away.
    const own = new Uint8Array(photo);
    const answer = await this.submit(1, { type: 'features', id, photo: own, maxPixels });
    if (answer.type !== 'features-result') throw new Error(`inference worker answered ${answer.type} to a features request`);
    return answer.features;
  }

  private submit(n: number, request: Job['request']): Promise<Parameters<Job['resolve']>[0]> {
    if (this.closed) return Promise.reject(unavailable('the model is being unloaded; retry'));
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.batchTimeoutMs ?? 60_000;
      const job: Job = { n, request, resolve, reject, slot: null, id: request.id, timer: undefined as unknown as NodeJS.Timeout };
      job.timer = setTimeout(() => {
        const slot = job.slot;
        if (slot) {
          this.log(`inference worker took over ${timeoutMs} ms for a batch of ${n}: replacing it`);
          this.finish(job, unavailable(`inference took longer than ${timeoutMs} ms; retry`));
          void slot.worker.terminate();
        } else {
          const i = this.queue.indexOf(job);
          if (i >= 0) this.queue.splice(i, 1);
          this.finish(job, unavailable(`no inference worker was free within ${timeoutMs} ms; retry`));
        }
      }, timeoutMs);
      this.queue.push(job);
      this.pump();
    });
  }

  private finish(job: Job, err: Error | null, answer?: Parameters<Job['resolve']>[0]): void {
    clearTimeout(job.timer);
    if (job.slot && job.slot.job === job) job.slot.job = null;
    job.slot = null;
    if (err) job.reject(err);
    else job.resolve(answer!);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      job.slot = slot;
      slot.job = job;
      const buffer = job.request.type === 'run' ? job.request.pixels.buffer : job.request.photo.buffer;
      slot.worker.postMessage(job.request, [buffer as ArrayBuffer]);
    }
  }

  private spawn(): Promise<void> {
    const { bootstrap, workerModule } = workerFiles();
    const setup: WorkerSetup = {
      workerModule,
      modelDir: this.options.modelDir,
      version: this.options.version,
      imageSize: this.options.imageSize,
      backend: this.options.backend,
    };
    this.spawning++;
    // Worker threads of one process share its cores: each gets its share for ONNX Runtime's threads (unless set).
    const ortThreads = process.env[ORT_THREADS_ENV] || String(Math.max(1, Math.floor(os.availableParallelism() / this.size)));
    // Told tfjs when onnxruntime-node cannot load in this process: said once here, not again by every thread.
    const engineEnv = engineEnvForWorkers(this.options.backbones);
    const worker = new Worker(bootstrap, { workerData: setup, env: { ...process.env, [ORT_THREADS_ENV]: ortThreads, ...engineEnv } });
    this.all.add(worker);
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const startTimeoutMs = this.options.startTimeoutMs ?? 180_000;
      const startTimer = setTimeout(() => {
        fail(new Error(`inference worker did not load model v${this.options.version} within ${startTimeoutMs} ms`));
        void worker.terminate();
      }, startTimeoutMs);
      const fail = (err: Error) => {
        if (started) return;
        started = true;
        this.spawning--;
        clearTimeout(startTimer);
        reject(err);
      };
      const slot: Slot = { worker, job: null };
      worker.on('message', (msg: PoolResponse) => {
        if (msg.type === 'ready') {
          if (started) return;
          started = true;
          this.spawning--;
          clearTimeout(startTimer);
          if (this.closed) {
            void worker.terminate();
            return resolve();
          }
          this.slots.push(slot);
          resolve();
          this.pump();
        } else if (msg.type === 'load-error') {
          fail(new Error(msg.message));
          void worker.terminate();
        } else if (slot.job && slot.job.id === msg.id) {
          const job = slot.job;
          if (msg.type === 'result') {
            this.options.onBatch?.(job.n, msg.ms, { threadId: worker.threadId, startedAt: msg.startedAt, endedAt: msg.endedAt });
            this.finish(job, null, msg);
          } else if (msg.type === 'features-result') {
            this.finish(job, null, msg);
          } else if (msg.type === 'error' && msg.decodeKind) {
            this.finish(job, new ImageDecodeError(msg.decodeKind, msg.message));
          } else {
            this.finish(job, new Error(`inference failed: ${msg.message}`));
          }
          this.pump();
        }
      });
      worker.on('error', (err) => {
        if (!started) fail(err);
        else this.log(`inference worker error: ${err.message}`);
      });
      worker.on('exit', (code) => {
        this.all.delete(worker);
        if (!started) {
          fail(new Error(`inference worker exited (code ${code}) while loading model v${this.options.version}`));
          return;
        }
        const i = this.slots.indexOf(slot);
        if (i < 0) return;
        this.slots.splice(i, 1);
        if (slot.job) this.finish(slot.job, unavailable('the inference worker stopped while running this batch; retry'));
        if (this.closed) return;
        this.log(`inference worker exited (code ${code}): starting a replacement`);
        this.replace(1);
      });
    });
  }

  /** Start a replacement worker; retried with backoff, and waiting batches fail when no worker is left at all. */
  private replace(attempt: number): void {
    if (this.closed) return;
    this.spawn().then(
      () => this.pump(),
      (err: Error) => {
        if (this.closed) return;
        this.log(`inference worker replacement failed (attempt ${attempt}): ${err.message}`);
        if (this.slots.length === 0 && this.spawning === 0) {
          for (const job of this.queue.splice(0)) this.finish(job, unavailable(`no inference worker is running: ${err.message}`));
        }
        if (attempt < 5) setTimeout(() => this.replace(attempt + 1), Math.min(30_000, 1000 * 2 ** (attempt - 1))).unref();
      },
    );
  }

  /** Terminate every worker; waiting and running batches fail with a 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, unavailable('the model is being unloaded; retry'));
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.job) this.finish(s.job, unavailable('the model is being unloaded; retry'));
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}
