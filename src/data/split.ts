import { duplicateClusters } from './duplicates.js';
import { apportion, shuffled } from './mix.js';
import type { ManifestEntry, Split } from './types.js';

export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
export const DEFAULT_SPLIT_FRACTIONS: Record<Split, number> = { train: 0.7, val: 0.15, test: 0.15 };
export const DEFAULT_NEAR_DUP_DISTANCE = 6;

export interface SplitOptions {
  seed?: string | number;
  fractions?: Record<Split, number>;
  /** dHash Hamming distance at or below which two photos count as copies; -1 turns near-duplicate matching off. */
  nearDupDistance?: number;
}

export interface SplitResult {
  /** The input entries with `split` set (copies; the input is not changed). */
  entries: ManifestEntry[];
  counts: Record<Split, Record<string, number>>;
  clusters: { total: number; multi: number; largest: number; exactPairs: number; nearPairs: number };
}

function parseFractions(f: Record<Split, number>): Record<Split, number> {
  const total = SPLITS.reduce((s, k) => s + (f[k] ?? 0), 0);
  if (SPLITS.some((k) => !(f[k] >= 0)) || !(total > 0)) throw new Error(`bad split fractions ${JSON.stringify(f)}`);
  return { train: f.train / total, val: f.val / total, test: f.test / total };
}

/**
 * Deterministic train/val/test split, stratified by group, that keeps every cluster of copies (same sha256 or
 * near-identical difference hash) on one side. The result depends only on the seed and file contents, not on
 * listing order. Each cluster belongs to the stratum of its most common group; within a stratum, clusters are
 * shuffled by the seed, placed largest first, each into the split furthest below its target count.
 */
export function splitEntries(input: readonly ManifestEntry[], opts: SplitOptions = {}): SplitResult {
  const fractions = parseFractions(opts.fractions ?? DEFAULT_SPLIT_FRACTIONS);
  const seed = opts.seed ?? 0;
  const maxDistance = opts.nearDupDistance ?? DEFAULT_NEAR_DUP_DISTANCE;
  const entries = input
    .map((e) => ({ ...e }))
    .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of entries) if (e.status !== 'ok') throw new Error(`cannot split rejected entry ${e.path} (${e.reason})`);
  const { clusters, exactPairs, nearPairs } = duplicateClusters(entries, maxDistance);

  const strata = new Map<string, number[][]>();
  for (const c of clusters) {
    const tally = new Map<string, number>();
    for (const i of c) tally.set(entries[i].group, (tally.get(entries[i].group) ?? 0) + 1);
    const group = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
    const list = strata.get(group) ?? [];
    list.push(c);
    strata.set(group, list);
  }

  for (const group of [...strata.keys()].sort()) {
    const groupClusters = strata.get(group)!;
    const total = groupClusters.reduce((s, c) => s + c.length, 0);
    const target = apportion(total, fractions);
    const have: Record<Split, number> = { train: 0, val: 0, test: 0 };
    const order = shuffled(groupClusters, `${seed}:split:${group}`).sort((a, b) => b.length - a.length);
    for (const c of order) {
      let best: Split = 'train';
      for (const s of SPLITS) if (target[s] - have[s] > target[best] - have[best]) best = s;
      have[best] += c.length;
      for (const i of c) entries[i].split = best;
    }
  }

  const counts = { train: {}, val: {}, test: {} } as Record<Split, Record<string, number>>;
  for (const e of entries) counts[e.split!][e.group] = (counts[e.split!][e.group] ?? 0) + 1;
  const sizes = clusters.map((c) => c.length);
  return {
    entries,
    counts,
    clusters: {
      total: clusters.length, multi: sizes.filter((s) => s > 1).length, largest: Math.max(0, ...sizes), exactPairs, nearPairs,
    },
  };
}
