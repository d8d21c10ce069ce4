export * from './types.js';
export * from './form.js';
export { predict, sendFeedback, feedbackFormData, ServingApiError, type PhotoUpload, type FeedbackItem, type ClientOptions } from './client.js';
export { FeedbackQueue } from './queue.js';
export { FeedbackUploader, type FeedbackUploaderOptions } from './uploader.js';
export { openFeedbackStorage, retentionDaysFromEnv, RETENTION_ENV, type FeedbackStorage } from './storage.js';
export { purgeFeedback, type PurgeOptions, type PurgeResult } from './purge.js';
export { reencodePhoto, type CleanPhoto } from './photo.js';
export { pullFeedback, FeedbackSource, CombinedSource, NOT_CAT_GROUP, type FeedbackPull, type FeedbackFlag } from './dataset.js';
