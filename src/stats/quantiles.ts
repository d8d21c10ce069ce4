/** Ascending copy of the values (numeric order; NaN last). */
export function sorted(values: readonly number[]): number[] {
  return Float64Array.from(values).sort() as unknown as number[];
}

/** Linear-interpolated quantile of already sorted values; NaN for none. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantileSorted(sorted(values), 0.5);
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
