import seedrandom from 'seedrandom';
import { quantileSorted, sorted } from '../stats/quantiles.js';

/**
 * Robust z-scores: (x - median) / scale, scale = 1.4826 MAD, falling back to IQR / 1.349 and then the mean
 * absolute deviation when more than half the values are equal. All zeros when every value is the same.
 */
export function robustZ(values: readonly number[]): { z: number[]; median: number; scale: number } {
  const s = sorted(values);
  const med = quantileSorted(s, 0.5);
  const mad = quantileSorted(sorted(values.map((v) => Math.abs(v - med))), 0.5) * 1.4826;
  const iqr = (quantileSorted(s, 0.75) - quantileSorted(s, 0.25)) / 1.349;
  const meanAbs = values.length ? (values.reduce((a, v) => a + Math.abs(v - med), 0) / values.length) * 1.2533 : 0;
  const scale = mad > 1e-12 ? mad : iqr > 1e-12 ? iqr : meanAbs;
  return { z: values.map((v) => (scale > 1e-12 ? (v - med) / scale : 0)), median: med, scale };
}

/** Fold index (0..k-1) per item, stratified by class and shuffled with a seed. */
export function stratifiedFolds(classes: readonly string[], k: number, seed: string): number[] {
  const rng = seedrandom(seed);
  const byClass = new Map<string, number[]>();
  classes.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const fold = new Array<number>(classes.length).fill(0);
  let offset = 0;
  for (const key of [...byClass.keys()].sort()) {
    const idx = byClass.get(key)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((item, r) => (fold[item] = (r + offset) % k));
    offset += idx.length;
  }
  return fold;
}

export interface Histogram {
  /** k + 1 bin edges for k bins. */
  edges: number[];
}

/** Equal-width bin edges over [min, max] of all values (for distribution charts). */
export function chartEdges(values: readonly number[], bins = 20): number[] {
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  if (!Number.isFinite(min)) return [0, 1];
  if (max === min) max = min + 1;
  return Array.from({ length: bins + 1 }, (_, k) => min + ((max - min) * k) / bins);
}

export function histogramCounts(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const span = edges[bins] - edges[0];
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - edges[0]) / span) * bins)))]++;
  return counts;
}

export function summaryQuantiles(values: readonly number[]): { p5: number; p25: number; p50: number; p75: number; p95: number } {
  const s = sorted(values);
  const q = (p: number) => Number(quantileSorted(s, p).toFixed(4));
  return { p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) };
}
