export { startServer, type ServeOptions, type RunningServer } from './server.js';
export type { PredictResponse } from './app.js';
export { ModelHolder, type ServingModel, type ModelLoader } from './model-holder.js';
export { loadTfjsServingModel } from './tfjs-model.js';
export { purgeExpired, type PurgeOptions, type PurgeResult } from './retention.js';
export { METRIC } from './server-instruments.js';
export { InferencePool, servingWorkers, SERVE_WORKERS_ENV } from './inference-pool.js';
