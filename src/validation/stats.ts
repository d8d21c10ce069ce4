import seedrandom from 'seedrandom';

export function sorted(values: readonly number[]): number[] {
  return Float64Array.from(values).sort() as unknown as number[];
}

/** Linear-interpolated quantile of already sorted values. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantileSorted(sorted(values), 0.5);
}

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

/** Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value. */
export function ksTest(a: readonly number[], b: readonly number[]): { statistic: number; pValue: number } {
  if (a.length === 0 || b.length === 0) return { statistic: 0, pValue: 1 };
  const x = sorted(a), y = sorted(b);
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return { statistic: d, pValue: Math.min(1, Math.max(0, lambda < 0.3 ? 1 : p)) };
}

/** Bin edges at the reference's quantiles (duplicates removed, so heavily tied values get fewer bins). */
export function quantileEdges(reference: readonly number[], bins: number): number[] {
  const s = sorted(reference);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantileSorted(s, k / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Index of the bin of v given inner edges (bin k holds edges[k-1] < v <= edges[k]). */
export function binOf(v: number, edges: readonly number[]): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Population stability index of `actual` against `reference`, on quantile bins of the reference. */
export function psi(reference: readonly number[], actual: readonly number[], bins = 10): number {
  if (reference.length === 0 || actual.length === 0) return 0;
  const edges = quantileEdges(reference, bins);
  const r = new Float64Array(edges.length + 1), a = new Float64Array(edges.length + 1);
  for (const v of reference) r[binOf(v, edges)]++;
  for (const v of actual) a[binOf(v, edges)]++;
  // Half a count per bin (Laplace smoothing) keeps empty bins of small samples from exploding the index.
  let total = 0;
  for (let k = 0; k < r.length; k++) {
    const p = (r[k] + 0.5) / (reference.length + 0.5 * r.length), q = (a[k] + 0.5) / (actual.length + 0.5 * r.length);
    total += (q - p) * Math.log(q / p);
  }
  return total;
}

/** Area under the ROC curve of `scores` for binary `labels` (Mann-Whitney, ties count half). */
export function auc(scores: readonly number[], labels: ArrayLike<number>): number {
  const idx = scores.map((_, i) => i).sort((i, j) => scores[i] - scores[j]);
  let pos = 0, neg = 0, rankSum = 0;
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && scores[idx[e + 1]] === scores[idx[k]]) e++;
    const avgRank = (k + e) / 2 + 1;
    for (let t = k; t <= e; t++) if (labels[idx[t]]) rankSum += avgRank;
    k = e + 1;
  }
  for (let i = 0; i < scores.length; i++) (labels[i] ? pos++ : neg++);
  if (pos === 0 || neg === 0) return 0.5;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
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

export const round = (x: number, digits = 4) => Number(x.toFixed(digits));
