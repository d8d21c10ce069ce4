/**
 * Shapes of evaluation results. `EvaluationReport` is what a run writes as `artifacts/evaluation.json`
 * (see src/tracking/types.ts) and what the report site charts. All probabilities are p(cat) in [0, 1].
 */

import type { Confusion } from '../stats/confusion.js';

export const EVALUATION_SCHEMA = 1;

export type { Confusion };

/** Threshold-dependent metrics. A ratio whose denominator is 0 is null (e.g. precision with no predicted cats). */
export interface ThresholdMetrics extends Confusion {
  threshold: number;
  n: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  accuracy: number | null;
  /** Share of images called cats. */
  positiveRate: number | null;
  /** fp / (fp + tn). */
  falsePositiveRate: number | null;
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** Images with p >= threshold are called cats at this point (Infinity is written as null in JSON). */
  threshold: number | null;
}

export interface PrPoint {
  recall: number;
  precision: number;
  threshold: number | null;
}

export interface CalibrationBin {
  /** [lo, hi) except the last bin, which includes 1. */
  lo: number;
  hi: number;
  count: number;
  meanPredicted: number | null;
  fractionPositive: number | null;
}

export interface Calibration {
  bins: CalibrationBin[];
  /** Expected calibration error: sum over bins of count/n * |fractionPositive - meanPredicted|. */
  ece: number | null;
}

export interface SweepPoint {
  threshold: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  positiveRate: number | null;
}

export type ThresholdStrategy = { kind: 'maximize-f1' } | { kind: 'balanced' } | { kind: 'min-precision'; minPrecision: number } | { kind: 'fixed'; threshold: number };

export interface ThresholdChoice {
  threshold: number;
  strategy: ThresholdStrategy;
  /** Split the threshold was chosen on (normally 'val'). */
  chosenOn: string;
  /** Metrics on that split at the chosen threshold. */
  metricsOnChoiceSplit: ThresholdMetrics;
  /** Set when the strategy could not be met (e.g. no threshold reaches the minimum precision). */
  warning: string | null;
}

/** Per-group slice at the chosen threshold. For a negative group, positiveRate is how often it is called a cat. */
export interface SliceMetrics {
  group: string;
  n: number;
  positives: number;
  predictedPositive: number;
  positiveRate: number | null;
  /** Recall on the cats of this group (null when the group has no cats). */
  recall: number | null;
  precision: number | null;
  meanProbability: number | null;
}

export interface ErrorExample {
  path: string;
  group: string;
  label: 0 | 1;
  probability: number;
  /** data: URI of a small thumbnail when a thumbnail callback was given. */
  thumbnail?: string;
}

export interface ErrorGallery {
  /** Not cats called cats, most confident first. */
  falsePositives: ErrorExample[];
  /** Cats missed, most confidently missed first. */
  falseNegatives: ErrorExample[];
}

export interface BehaviourCheck {
  name: string;
  passed: boolean;
  /** Measured value and the limit it was held against. */
  value: number | null;
  limit: number;
  detail: string;
}

export interface BehaviourReport {
  passed: boolean;
  checks: BehaviourCheck[];
}

export interface SplitEvaluation {
  split: string;
  n: number;
  positives: number;
  atThreshold: ThresholdMetrics;
  rocAuc: number | null;
  /** Average precision. */
  prAuc: number | null;
  roc: RocPoint[];
  pr: PrPoint[];
  calibration: Calibration;
  sweep: SweepPoint[];
  slices: SliceMetrics[];
  errors: ErrorGallery;
}

export interface EvaluationReport {
  schema: typeof EVALUATION_SCHEMA;
  createdAt: string;
  threshold: ThresholdChoice;
  /** Evaluation of the test split at the threshold chosen on validation. */
  test: SplitEvaluation;
  /** Evaluation of the validation split at the same threshold (optional). */
  val: SplitEvaluation | null;
  behaviour: BehaviourReport | null;
  /**
   * A simple model scored on the same splits with the same threshold strategy (e.g. the ImageNet classifier's
   * zero-shot answer): the candidate should beat it. Null or absent when none applies.
   */
  baseline?: BaselineEvaluation | null;
}

/** A baseline's numbers on the test split, at the threshold its own validation scores chose. */
export interface BaselineEvaluation {
  name: string;
  description: string;
  threshold: number;
  test: { n: number; precision: number | null; recall: number | null; f1: number | null; accuracy: number | null; rocAuc: number | null; prAuc: number | null; positiveRates: Record<string, number | null> };
}
