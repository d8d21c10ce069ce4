import { MetricsRegistry, type Counter, type Gauge, type Histogram } from './metrics.js';

/** Latency buckets in seconds: fine below 50 ms, where a healthy predict request lands. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Metric names, shared with monitoring (which reads them back from /metrics or the snapshot). */
export const METRIC = {
  requests: 'areyouacat_http_requests_total',
  errors: 'areyouacat_http_errors_total',
  duration: 'areyouacat_http_request_duration_seconds',
  inference: 'areyouacat_inference_duration_seconds',
  batchSize: 'areyouacat_inference_batch_size',
  predictions: 'areyouacat_predictions_total',
  modelVersion: 'areyouacat_model_version',
  modelInfo: 'areyouacat_model_info',
  modelSwaps: 'areyouacat_model_swaps_total',
  modelLoadFailures: 'areyouacat_model_load_failures_total',
  feedback: 'areyouacat_feedback_total',
  feedbackQueue: 'areyouacat_feedback_queue_depth',
  feedbackUploadFailures: 'areyouacat_feedback_upload_failures_total',
  monitoringSkipped: 'areyouacat_monitoring_samples_skipped_total',
} as const;

export interface ServerMetrics {
  registry: MetricsRegistry;
  requests: Counter;
  errors: Counter;
  duration: Histogram;
  inference: Histogram;
  batchSize: Histogram;
  predictions: Counter;
  modelVersion: Gauge;
  modelInfo: Gauge;
  modelSwaps: Counter;
  modelLoadFailures: Counter;
  feedback: Counter;
  feedbackQueue: Gauge;
  feedbackUploadFailures: Counter;
  monitoringSkipped: Counter;
}

export function createServerMetrics(): ServerMetrics {
  const r = new MetricsRegistry();
  return {
    registry: r,
    requests: r.counter(METRIC.requests, 'HTTP requests by route, method and status code.'),
    errors: r.counter(METRIC.errors, 'Requests answered with an error, by route and error code.'),
    duration: r.histogram(METRIC.duration, 'Time from request to response end, by route.', LATENCY_BUCKETS),
    inference: r.histogram(METRIC.inference, 'Model forward pass time per batch.', LATENCY_BUCKETS),
    batchSize: r.histogram(METRIC.batchSize, 'Images per forward pass (concurrent requests are batched).', [1, 2, 4, 8, 16, 32, 64]),
    predictions: r.counter(METRIC.predictions, 'Predictions by decision (cat or not-cat).'),
    modelVersion: r.gauge(METRIC.modelVersion, 'Registry version of the model being served (0 = none).'),
    modelInfo: r.gauge(METRIC.modelInfo, 'Always 1; labels name the model being served.'),
    modelSwaps: r.counter(METRIC.modelSwaps, 'Hot swaps to a newly promoted model.'),
    modelLoadFailures: r.counter(METRIC.modelLoadFailures, 'Promoted models that failed to load (old model kept).'),
    feedback: r.counter(METRIC.feedback, 'Feedback items by outcome (stored, queued, rejected).'),
    feedbackQueue: r.gauge(METRIC.feedbackQueue, 'Feedback items waiting on local disk for upload to S3.'),
    feedbackUploadFailures: r.counter(METRIC.feedbackUploadFailures, 'Failed attempts to upload queued feedback.'),
    monitoringSkipped: r.counter(METRIC.monitoringSkipped, 'Prediction inputs not measured for drift (server busy).'),
  };
}
