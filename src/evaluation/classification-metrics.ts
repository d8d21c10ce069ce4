import { confusionAt, ratio, type Confusion } from '../stats/confusion.js';
import type { ThresholdMetrics } from './types.js';
import { cumulativeByThreshold } from './scored.js';

/**
 * Threshold metrics of a binary classifier (precision, recall, F1, accuracy, rates) and the threshold-free
 * average precision. The confusion matrix and ROC AUC themselves live in `src/stats`.
 */
export { confusionAt };
export { rocAuc } from '../stats/roc-auc.js';

export function metricsFromConfusion(c: Confusion, threshold: number): ThresholdMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  // F1 = 2TP / (2TP + FP + FN): defined (as 0) when there are cats or predicted cats, null only when neither exists.
  const f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  return {
    threshold,
    n,
    ...c,
    precision,
    recall,
    f1,
    accuracy: ratio(c.tp + c.tn, n),
    positiveRate: ratio(c.tp + c.fp, n),
    falsePositiveRate: ratio(c.fp, c.fp + c.tn),
  };
}

/** Precision, recall, F1, accuracy and the confusion matrix at one threshold. */
export function metricsAt(labels: ArrayLike<number>, probs: ArrayLike<number>, threshold: number): ThresholdMetrics {
  return metricsFromConfusion(confusionAt(labels, probs, threshold), threshold);
}

/**
 * PR-AUC as average precision: sum over distinct thresholds (high to low) of (recall gain) x precision,
 * tied scores taken together. Null when there are no cats.
 */
export function averagePrecision(labels: ArrayLike<number>, probs: ArrayLike<number>): number | null {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  if (positives === 0) return null;
  let ap = 0;
  let prevRecall = 0;
  for (const { tp, fp } of cumulativeByThreshold(labels, probs)) {
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}
