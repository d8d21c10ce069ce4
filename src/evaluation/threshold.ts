import type { SweepPoint, ThresholdChoice, ThresholdStrategy } from './types.js';
import { metricsAt } from './classification-metrics.js';
import { cumulativeByThreshold, ratio, type ScoredSplit, checkScored } from './scored.js';

/** Precision, recall, F1 and positive rate at evenly spaced thresholds (0, 1/steps, ..., 1), for trade-off charts. */
export function thresholdSweep(labels: ArrayLike<number>, probs: ArrayLike<number>, steps = 100): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (let k = 0; k <= steps; k++) {
    const t = k / steps;
    const m = metricsAt(labels, probs, t);
    out.push({ threshold: t, precision: m.precision, recall: m.recall, f1: m.f1, positiveRate: m.positiveRate });
  }
  return out;
}

/** Parse `balanced`, `maximize-f1`, `min-precision:0.9` or `fixed:0.5` (as the CLI and configs write it). */
export function parseThresholdStrategy(text: string): ThresholdStrategy {
  const t = text.trim();
  if (t === 'maximize-f1') return { kind: 'maximize-f1' };
  if (t === 'balanced') return { kind: 'balanced' };
  const m = /^(min-precision|fixed)\s*[:=]\s*([0-9.]+)$/.exec(t);
  const v = m ? Number(m[2]) : NaN;
  if (m && v >= 0 && v <= 1) return m[1] === 'fixed' ? { kind: 'fixed', threshold: v } : { kind: 'min-precision', minPrecision: v };
  throw new Error(`unknown threshold strategy "${text}": use balanced, maximize-f1, min-precision:P or fixed:T with 0 <= P, T <= 1`);
}

export function describeStrategy(s: ThresholdStrategy): string {
  return s.kind === 'maximize-f1' || s.kind === 'balanced' ? s.kind : s.kind === 'fixed' ? `fixed:${s.threshold}` : `min-precision:${s.minPrecision}`;
}

/**
 * Choose a threshold on one split (normally validation). Candidates are the midpoints between consecutive
 * distinct scores (the lowest score itself for "everything is a cat"), so the choice reproduces the split's
 * best operating point without sitting exactly on one image's score.
 * - maximize-f1: highest F1; ties go to the higher threshold.
 * - balanced: the break-even point, highest min(precision, recall); ties go to the higher F1, then the higher
 *   threshold. For gates that need both: F1's peak is often a wide plateau on a few hundred images, so
 *   maximize-f1 can land anywhere on it and trade recall for precision by chance.
 * - min-precision:p: highest recall among thresholds with precision >= p; ties go to the higher threshold.
 *   When no threshold reaches p, the highest-precision one is taken and `warning` says so.
 */
export function chooseThreshold(split: ScoredSplit, strategy: ThresholdStrategy, splitName = 'val'): ThresholdChoice {
  checkScored(split, `threshold choice on ${splitName}`);
  const { labels, probs } = split;
  if (strategy.kind === 'fixed') {
    return { threshold: strategy.threshold, strategy, chosenOn: splitName, metricsOnChoiceSplit: metricsAt(labels, probs, strategy.threshold), warning: null };
  }
  if (labels.length === 0) throw new Error(`cannot choose a threshold on ${splitName}: the split is empty`);
  const steps = cumulativeByThreshold(labels, probs);
  const positives = steps[steps.length - 1].tp;
  if (positives === 0) throw new Error(`cannot choose a threshold on ${splitName}: it has no cats`);
  const candidates = steps.map((s, k) => ({
    threshold: k + 1 < steps.length ? (s.threshold + steps[k + 1].threshold) / 2 : s.threshold,
    precision: s.tp / (s.tp + s.fp),
    recall: s.tp / positives,
    f1: ratio(2 * s.tp, s.tp + s.fp + positives) ?? 0,
  }));
  let best = candidates[0];
  let warning: string | null = null;
  if (strategy.kind === 'maximize-f1') {
    for (const c of candidates) if (c.f1 > best.f1) best = c;
  } else if (strategy.kind === 'balanced') {
    const score = (c: typeof best) => Math.min(c.precision, c.recall);
    for (const c of candidates) if (score(c) > score(best) || (score(c) === score(best) && c.f1 > best.f1)) best = c;
  } else {
    const ok = candidates.filter((c) => c.precision >= strategy.minPrecision);
    if (ok.length) {
      best = ok[0];
      for (const c of ok) if (c.recall > best.recall) best = c;
    } else {
      for (const c of candidates) if (c.precision > best.precision) best = c;
      warning = `no threshold reaches precision ${strategy.minPrecision} on ${splitName}; using the most precise one (precision ${best.precision.toFixed(3)})`;
    }
  }
  return { threshold: best.threshold, strategy, chosenOn: splitName, metricsOnChoiceSplit: metricsAt(labels, probs, best.threshold), warning };
}
