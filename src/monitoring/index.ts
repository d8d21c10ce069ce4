export * from './types.js';
export { buildMonitoringReport, DEFAULT_MONITORING_THRESHOLDS, MONITORING_REPORT_FILE, type MonitorOptions } from './report.js';
export { readLog, listLogDays, JsonlAppender } from './event-log.js';
export { loadTrainingReference, loadPredictionReference } from './reference.js';
export { scrapeMetrics, readMetricsSnapshot, servingNumbers, servingCounts, METRICS_SNAPSHOT_FILE, type ServingCounts } from './serving-stats.js';
export {
  ServingHistory,
  loadServingHistory,
  saveServingHistory,
  SERVING_HISTORY_FILE,
  type ServingHistoryView,
  type ServingHistoryPoint,
} from './serving-history.js';
export { parsePrometheusText, histogramQuantile } from './prometheus-text.js';
