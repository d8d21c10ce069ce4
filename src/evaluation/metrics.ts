import type { Confusion, ThresholdMetrics } from './types.js';
import { cumulativeByThreshold, ratio } from './scored.js';

/** Confusion matrix when images with p >= threshold are called cats. */
export function confusionAt(labels: ArrayLike<number>, probs: ArrayLike<number>, threshold: number): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predicted = probs[i] >= threshold;
    if (labels[i] === 1) predicted ? c.tp++ : c.fn++;
    else predicted ? c.fp++ : c.tn++;
  }
  return c;
}

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
 * ROC-AUC as the probability that a random cat scores above a random non-cat, ties counting one half
 * (Mann-Whitney U with mid-ranks). Null when either class is missing.
 */
export function rocAuc(labels: ArrayLike<number>, probs: ArrayLike<number>): number | null {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[a] - probs[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && probs[idx[end + 1]] === probs[idx[start]]) end++;
    const midRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let k = start; k <= end; k++) {
      if (labels[idx[k]] === 1) {
        rankSumPos += midRank;
        pos++;
      }
    }
    start = end + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
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
