import type { PrPoint, RocPoint } from './types.js';
import { cumulativeByThreshold } from './scored.js';

/** Keep at most `max` points, evenly spread by index, always keeping the first and the last. */
export function downsample<T>(points: T[], max: number): T[] {
  if (max < 2) throw new Error(`downsample: max must be at least 2, got ${max}`);
  if (points.length <= max) return points;
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  let last = -1;
  for (let k = 0; k < max; k++) {
    const i = Math.round(k * step);
    if (i !== last) out.push(points[i]);
    last = i;
  }
  return out;
}

/** ROC curve from (0,0) to (1,1), one point per distinct score. Empty when either class is missing. */
export function rocCurve(labels: ArrayLike<number>, probs: ArrayLike<number>, maxPoints = 200): RocPoint[] {
  const steps = cumulativeByThreshold(labels, probs);
  const last = steps[steps.length - 1];
  if (!last || last.tp === 0 || last.fp === 0) return [];
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  for (const s of steps) points.push({ fpr: s.fp / last.fp, tpr: s.tp / last.tp, threshold: s.threshold });
  return downsample(points, maxPoints);
}

/** Precision-recall curve, starting at (recall 0, precision 1). Empty when there are no cats. */
export function prCurve(labels: ArrayLike<number>, probs: ArrayLike<number>, maxPoints = 200): PrPoint[] {
  const steps = cumulativeByThreshold(labels, probs);
  const last = steps[steps.length - 1];
  if (!last || last.tp === 0) return [];
  const points: PrPoint[] = [{ recall: 0, precision: 1, threshold: null }];
  for (const s of steps) points.push({ recall: s.tp / last.tp, precision: s.tp / (s.tp + s.fp), threshold: s.threshold });
  return downsample(points, maxPoints);
}
