// Entry point of an inference worker thread: the worker module is TypeScript, so tsx's loader is registered in this
// thread first (loader hooks are per thread, and a CLI started through `register()` passes none to its workers).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
import(workerData.workerModule).catch((err) => {
  parentPort?.postMessage({ type: 'load-error', message: `cannot start the inference worker: ${err?.message ?? err}` });
});
