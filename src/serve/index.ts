export { startServer, type ServeOptions, type RunningServer } from './server.js';
export type { PredictResponse } from './app.js';
export { ModelHolder, type ServingModel, type ModelLoader } from './model-holder.js';
export { loadTfjsServingModel } from './tfjs-model.js';
export { purgeFeedback, type PurgeOptions, type PurgeResult } from './feedback-purge.js';
export { openFeedbackStorage, retentionDaysFromEnv, RETENTION_ENV } from './feedback-storage.js';
export { FeedbackQueue } from './feedback-queue.js';
export * from './feedback-types.js';
export { METRIC } from './server-metrics.js';
