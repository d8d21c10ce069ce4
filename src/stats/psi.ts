import { binOf, quantileEdges } from './quantiles.js';

/**
 * Population stability index of `current` against `reference`, both given as counts over the same bins:
 * sum over bins of (q - p) ln(q / p), p and q the smoothed shares.
 *
 * Smoothing: every bin's share gets half an observation of the smaller sample, eps = 0.5 / min(n), in both
 * distributions (p = (share + eps) / (1 + k eps)). Equal shares therefore give exactly 0 whatever the two sample
 * sizes, and an empty bin of a small sample counts like half an image instead of exploding the logarithm.
 * 0 when either side has no observations (nothing to compare).
 */
export function psiFromCounts(reference: readonly number[], current: readonly number[]): number {
  const k = Math.max(reference.length, current.length);
  let nr = 0, nc = 0;
  for (let i = 0; i < k; i++) {
    nr += reference[i] ?? 0;
    nc += current[i] ?? 0;
  }
  if (nr === 0 || nc === 0) return 0;
  const eps = 0.5 / Math.min(nr, nc);
  let total = 0;
  for (let i = 0; i < k; i++) {
    const p = ((reference[i] ?? 0) / nr + eps) / (1 + k * eps);
    const q = ((current[i] ?? 0) / nc + eps) / (1 + k * eps);
    total += (q - p) * Math.log(q / p);
  }
  return total;
}

/** PSI of raw `current` values against `reference` values, on (up to `bins`) quantile bins of the reference. */
export function psi(reference: readonly number[], current: readonly number[], bins = 10): number {
  if (reference.length === 0 || current.length === 0) return 0;
  const edges = quantileEdges(reference, bins);
  const r = new Array<number>(edges.length + 1).fill(0), c = new Array<number>(edges.length + 1).fill(0);
  for (const v of reference) r[binOf(v, edges)]++;
  for (const v of current) c[binOf(v, edges)]++;
  return psiFromCounts(r, c);
}
