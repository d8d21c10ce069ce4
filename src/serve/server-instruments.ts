import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../monitoring/prometheus-registry.js';
import { METRIC } from '../monitoring/metric-names.js';

export { METRIC };

/** Latency buckets in seconds: fine below 50 ms, where a healthy predict request lands. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
