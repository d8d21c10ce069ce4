// One inference worker thread (started by InferencePool through inference-worker-bootstrap.mjs): its own
// TensorFlow.js backend and its own copy of the model, answering batches of prepared pixels with p(cat).
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../model/backend.js';
import { loadModel } from '../model/io.js';
import { predictPhotoViews } from '../model/predict.js';
import { pretrainedBackboneOf } from '../model/backbone-layer.js';
import { photoFeatureViews } from '../model/photo-features.js';
import { isImageDecodeError } from '../data/errors.js';
import type { PoolRequest, PoolResponse, WorkerSetup } from './inference-messages.js';

const setup = workerData as WorkerSetup;
/** Largest forward pass in pixels: four 256 x 256 squares, two 256 x 512 whole views, 64 squares of 64 x 64. */
const WORKER_BATCH_PIXELS = 4 * 256 * 256;
const port = parentPort!;
const send = (msg: PoolResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function start(): Promise<void> {
  const backend = await selectBackend({ prefer: setup.backend });
  const model = await loadModel(setup.modelDir);
  const { imageSize: size } = setup;
  const backboneId = pretrainedBackboneOf(model)?.backbone;
  const shape = model.inputs[0]?.shape;
  if (shape && (shape[1] !== size || shape[2] !== size || shape[3] !== 3)) {
    throw new Error(`model v${setup.version} expects input ${JSON.stringify(shape)}, its card says ${size}x${size}x3`);
  }
  // The one prediction entry point for photos: squares for a CNN, whole views of any allowed shape for a backbone.
  const run = async (n: number, pixels: Uint8Array, height: number, width: number) => {
    const per = height * width * 3;
    const views = Array.from({ length: n }, (_, i) => ({ height, width, pixels: pixels.subarray(i * per, (i + 1) * per) }));
    // Forward passes of at most WORKER_BATCH_PIXELS pixels: the WebAssembly heap only grows, so its size is that of
    // the largest pass ever run (a backbone on 32 whole views at once took gigabytes and kept them).
    return predictPhotoViews(model, views, Math.max(1, Math.min(n, Math.floor(WORKER_BATCH_PIXELS / (height * width)))));
  };
  await run(1, new Uint8Array(size * size * 3), size, size); // warm-up: the first real request is not slow
  port.on('message', (msg: PoolRequest) => {
    if (msg.type === 'exit') process.exit(msg.code); // fault injection (tests): the thread dies mid-flight
    const t0 = performance.now();
    if (msg.type === 'features') {
      photoFeatureViews(msg.photo, { backbone: backboneId!, imageSize: size, maxPixels: msg.maxPixels }).then(
        (features) => send({ type: 'features-result', id: msg.id, features, ms: performance.now() - t0 }, features.views.map((v) => v.buffer as ArrayBuffer)),
        (err: Error) => send({ type: 'error', id: msg.id, message: err.message, ...(isImageDecodeError(err) ? { decodeKind: err.kind } : {}) }),
      );
      return;
    }
    const startedAt = Date.now();
    run(msg.n, msg.pixels, msg.height, msg.width).then(
      (probs) => {
        const ms = performance.now() - t0;
        send({ type: 'result', id: msg.id, probs, ms, startedAt, endedAt: Date.now() }, [probs.buffer as ArrayBuffer]);
      },
      (err: Error) => send({ type: 'error', id: msg.id, message: err.message }),
    );
  });
  send({ type: 'ready', backend });
}

start().catch((err: Error) => send({ type: 'load-error', message: err.message }));
