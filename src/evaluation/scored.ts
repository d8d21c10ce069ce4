/** Predictions of one split, as evaluation takes them: labels (1 = cat), p(cat), and optionally group and path. */
export interface ScoredSplit {
  labels: ArrayLike<number>;
  probs: ArrayLike<number>;
  groups?: readonly string[];
  paths?: readonly string[];
}

/** Check lengths and values; a bad input gets a clear error instead of a silently wrong metric. */
export function checkScored(s: ScoredSplit, what = 'predictions'): void {
  const n = s.labels.length;
  if (s.probs.length !== n) throw new Error(`${what}: ${n} labels but ${s.probs.length} probabilities`);
  if (s.groups && s.groups.length !== n) throw new Error(`${what}: ${n} labels but ${s.groups.length} groups`);
  if (s.paths && s.paths.length !== n) throw new Error(`${what}: ${n} labels but ${s.paths.length} paths`);
  for (let i = 0; i < n; i++) {
    const y = s.labels[i];
    if (y !== 0 && y !== 1) throw new Error(`${what}: label ${i} is ${y}; labels must be 0 or 1`);
    const p = s.probs[i];
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new Error(`${what}: probability ${i} is ${p}; must be in [0, 1]`);
  }
}

export { ratio } from '../stats/confusion.js';

/** Indices sorted by probability, highest first (stable). */
export function orderByProbDesc(probs: ArrayLike<number>): number[] {
  const idx = Array.from({ length: probs.length }, (_, i) => i);
  return idx.sort((a, b) => probs[b] - probs[a] || a - b);
}

/**
 * Walk the distinct probability values from high to low. For each, yields the cumulative counts of positives
 * and negatives with p >= that value (ties are taken together, so curves never split a tie).
 */
export function cumulativeByThreshold(labels: ArrayLike<number>, probs: ArrayLike<number>): Array<{ threshold: number; tp: number; fp: number }> {
  const order = orderByProbDesc(probs);
  const out: Array<{ threshold: number; tp: number; fp: number }> = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || probs[next] !== probs[i]) out.push({ threshold: probs[i], tp, fp });
  }
  return out;
}
