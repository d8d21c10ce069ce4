import seedrandom from 'seedrandom';
import type { ManifestEntry } from './types.js';

/** Parse `cat=0.25,dog=0.25,...` (weights are normalised, so `cat=1,dog=1` works too). */
export function parseMix(text: string): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [group, value] = part.split('=').map((x) => x?.trim());
    const w = Number(value);
    if (!group || !value || !Number.isFinite(w) || w < 0) throw new Error(`bad mix entry "${part}": expected group=weight`);
    mix[group] = w;
  }
  return normaliseMix(mix);
}

export function normaliseMix(mix: Record<string, number>): Record<string, number> {
  const entries = Object.entries(mix).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (!entries.length || !(total > 0)) throw new Error('the group mix has no group with a positive weight');
  return Object.fromEntries(entries.map(([g, w]) => [g, w / total]));
}

/** Deterministic Fisher-Yates shuffle (copy). */
export function shuffled<T>(items: readonly T[], seed: string | number): T[] {
  const rng = seedrandom(String(seed));
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Split n into integer parts proportional to weights (largest remainder, ties by key order). */
export function apportion(n: number, weights: Record<string, number>): Record<string, number> {
  const keys = Object.keys(weights);
  const raw = keys.map((k) => n * weights[k]);
  const out = Object.fromEntries(keys.map((k, i) => [k, Math.floor(raw[i] + 1e-9)]));
  let left = n - keys.reduce((s, k) => s + out[k], 0);
  const order = keys.map((k, i) => ({ k, r: raw[i] - Math.floor(raw[i] + 1e-9) })).sort((a, b) => b.r - a.r);
  for (let i = 0; left > 0 && order.length; i = (i + 1) % order.length, left--) out[order[i].k]++;
  return out;
}

export interface MixSample {
  selected: ManifestEntry[];
  /** Per group: available accepted entries and how many were taken. */
  perGroup: Record<string, { available: number; selected: number }>;
  /** Accepted entries of groups outside the mix (left out, counted). */
  outsideMix: number;
}

/**
 * Sample accepted entries to a group mix. Without `n`, the largest sample that keeps the proportions; with `n`,
 * exactly n (error when the data cannot satisfy it). The choice within a group depends only on the seed and the
 * files' content (entries are ordered by sha256 before shuffling), not on listing order.
 */
export function sampleToMix(
  entries: readonly ManifestEntry[], mix: Record<string, number>, opts: { seed?: string | number; n?: number } = {},
): MixSample {
  const weights = normaliseMix(mix);
  const byGroup = new Map<string, ManifestEntry[]>();
  let outsideMix = 0;
  for (const e of entries) {
    if (e.status !== 'ok') continue;
    if (!(e.group in weights)) {
      outsideMix++;
      continue;
    }
    const list = byGroup.get(e.group) ?? [];
    list.push(e);
    byGroup.set(e.group, list);
  }
  const missing = Object.keys(weights).filter((g) => !byGroup.has(g));
  if (missing.length) throw new Error(`the mix asks for groups with no usable images: ${missing.join(', ')}`);
  const largest = Math.min(...Object.keys(weights).map((g) => Math.floor(byGroup.get(g)!.length / weights[g] + 1e-9)));
  let n = opts.n ?? largest;
  if (opts.n !== undefined) {
    if (!Number.isInteger(opts.n) || opts.n <= 0) throw new Error(`sample size must be a positive integer, got ${opts.n}`);
  }
  let counts = apportion(n, weights);
  // The largest-remainder rounding can ask one more of a group than it has; shrink n until it fits.
  while (opts.n === undefined && n > 0 && Object.keys(counts).some((g) => counts[g] > byGroup.get(g)!.length)) counts = apportion(--n, weights);
  const short = Object.keys(counts).filter((g) => counts[g] > byGroup.get(g)!.length);
  if (short.length) {
    const detail = short.map((g) => `${g} needs ${counts[g]}, has ${byGroup.get(g)!.length}`).join('; ');
    throw new Error(`cannot sample ${n} images to the mix: ${detail} (largest possible: ${largest})`);
  }
  const seed = opts.seed ?? 0;
  const selected: ManifestEntry[] = [];
  const perGroup: MixSample['perGroup'] = {};
  for (const g of Object.keys(weights)) {
    const pool = byGroup.get(g)!.slice().sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.path < b.path ? -1 : 1));
    const take = shuffled(pool, `${seed}:mix:${g}`).slice(0, counts[g]);
    selected.push(...take);
    perGroup[g] = { available: pool.length, selected: take.length };
  }
  return { selected, perGroup, outsideMix };
}
