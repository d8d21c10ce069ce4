/** Names of the server's metrics: the server registers them, monitoring reads them back from /metrics or the snapshot. */
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
