import type { PropertyValues } from '../validation/types.js';
import type { ServingNumbers } from './serving-stats.js';

/** One line of `predictions-YYYY-MM-DD.jsonl`: a prediction the server made (no image is kept). */
export interface PredictionLogEntry {
  time: string;
  version: number;
  probability: number;
  decision: 'cat' | 'not-cat';
  latencyMs: number;
  /** Image properties of the input (measured like the training data); absent when the server skipped measuring. */
  properties?: PropertyValues;
}

export type SectionStatus = 'ok' | 'warn' | 'alert' | 'insufficient-data' | 'unavailable';

export interface MonitoringThresholds {
  /** Days of logs the drift, prediction and feedback sections look at (today included). */
  windowDays: number;
  /** Fewer samples than this: a section reports 'insufficient-data' instead of judging. */
  minSamples: number;
  /** Property drift of incoming photos against the training split (same meaning as the validation's drift check). */
  drift: { ksWarn: number; ksAlert: number; psiWarn: number; psiAlert: number; maxPValue: number; bins: number };
  /** PSI of the live prediction distribution against the test split's. */
  predictionPsiWarn: number;
  predictionPsiAlert: number;
  /** Feedback answers needed before precision/recall are judged. */
  minFeedback: number;
  minPrecision: number;
  minRecall: number;
  /** Share of API requests answered 5xx. */
  maxErrorRate: number;
  /** 95th percentile latency of POST /api/predict. */
  maxP95Ms: number;
}

export interface MonitoringAlert {
  /** Stable id, e.g. `drift:brightness`, `feedback:precision`, `serving:p95`. */
  id: string;
  severity: 'warning' | 'critical';
  message: string;
  value: number | null;
  threshold: number;
}

export interface PropertyDriftRow {
  property: string;
  ks: number;
  pValue: number;
  psi: number;
  referenceMedian: number;
  currentMedian: number;
  status: 'ok' | 'warn' | 'alert';
}

/** `<monitoring>/report.json`, written by `areyouacat monitor`; the site's monitoring page reads it. */
export interface MonitoringReport {
  schema: 1;
  createdAt: string;
  window: { days: number; sinceDay: string };
  /**
   * The model the report is about: the version the server answers with (from its counters), else the promoted one;
   * `promotedVersion` when the promoted version is another (it failed to load and the server kept the one before).
   */
  model: { version: number; threshold: number; imageSize: number; dataset: string | null; promotedVersion?: number } | null;
  thresholds: MonitoringThresholds;
  drift: {
    status: SectionStatus;
    reason: string | null;
    reference: { dataset: string; n: number } | null;
    /** Prediction inputs with measured properties in the window. */
    n: number;
    rows: PropertyDriftRow[];
  };
  predictions: {
    status: SectionStatus;
    reason: string | null;
    /** Predictions of the current model version in the window. */
    n: number;
    positiveRate: number | null;
    meanProbability: number | null;
    psi: number | null;
    /** Shares per bin of p(cat): reference (test split) and current, over the same edges. */
    histogram: { edges: number[]; reference: number[] | null; current: number[] } | null;
    referenceSource: string | null;
  };
  feedback: {
    status: SectionStatus;
    reason: string | null;
    n: number;
    tp: number;
    fp: number;
    tn: number;
    fn: number;
    precision: number | null;
    recall: number | null;
    accuracy: number | null;
  };
  serving: {
    status: SectionStatus;
    reason: string | null;
    /**
     * 'url' (scraped live), 'snapshot' (file the server writes periodically) or 'server' (the running server's own
     * counters, in the report it builds for GET /api/monitoring).
     */
    source: 'url' | 'snapshot' | 'server' | null;
    /** When the numbers were taken; they count since the server started. */
    at: string | null;
  } & ServingNumbers;
  alerts: MonitoringAlert[];
  warnings: MonitoringAlert[];
}
