import { hashWords, popcount32 } from '../../data/phash.js';
import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus, MeasuredImage } from '../types.js';
import { pct, UNSPLIT } from '../context.js';

export interface DuplicateMember {
  path: string;
  split: string;
  group: string;
  label: number;
  sha256: string;
  thumbnail?: string;
}

export interface DuplicateCluster {
  /** 'exact' when every member has the same bytes, else 'near' (difference hashes within maxHamming bits). */
  kind: 'exact' | 'near';
  /** Largest Hamming distance between linked members. */
  maxDistance: number;
  splits: string[];
  groups: string[];
  members: DuplicateMember[];
}

function hashOf(m: MeasuredImage): string {
  return /^[0-9a-f]{16}$/.test(m.phash) ? m.phash : m.props.dhash;
}

/** Mean absolute difference (0-1) of two images' 8x8 RGB layouts (the first features). */
export function layoutDifference(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < LAYOUT_FEATURES; k++) s += Math.abs(a[k] - b[k]);
  return s / LAYOUT_FEATURES;
}

const LAYOUT_FEATURES = 8 * 8 * 3;

/**
 * Clusters of exact (same sha256) and near duplicates, by union-find. A near pair needs both a difference hash
 * within `maxHamming` bits and 8x8 colour layouts within `maxLayoutDifference`: dHash alone links different
 * people in aligned face crops, whose grey gradients are alike.
 */
export function findDuplicateClusters(images: readonly MeasuredImage[], maxHamming: number, maxLayoutDifference = 1): DuplicateCluster[] {
  const n = images.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const linkDistance = new Float64Array(n);
  const union = (a: number, b: number, d: number) => {
    const ra = find(a), rb = find(b);
    const dist = Math.max(d, linkDistance[ra], linkDistance[rb]);
    if (ra !== rb) parent[ra] = rb;
    linkDistance[find(rb)] = dist;
  };
  const bySha = new Map<string, number>();
  images.forEach((m, i) => {
    if (!m.sha256) return;
    const first = bySha.get(m.sha256);
    if (first === undefined) bySha.set(m.sha256, i);
    else union(first, i, 0);
  });
  // All pairs on 2x32-bit words: about 20M comparisons per second, fine for tens of thousands of images.
  const { hi, lo } = hashWords(images.map(hashOf));
  for (let i = 0; i < n; i++) {
    const hi_i = hi[i], lo_i = lo[i];
    for (let j = i + 1; j < n; j++) {
      const d = popcount32(hi_i ^ hi[j]) + popcount32(lo_i ^ lo[j]);
      if (d <= maxHamming && layoutDifference(images[i].props.features, images[j].props.features) <= maxLayoutDifference) union(i, j, d);
    }
  }
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    members.set(r, [...(members.get(r) ?? []), i]);
  }
  const clusters: DuplicateCluster[] = [];
  for (const [root, idx] of members) {
    if (idx.length < 2) continue;
    const list = idx.map((i) => images[i]);
    const exact = list.every((m) => m.sha256 && m.sha256 === list[0].sha256);
    clusters.push({
      kind: exact ? 'exact' : 'near',
      maxDistance: linkDistance[root],
      splits: [...new Set(list.map((m) => m.split))].sort(),
      groups: [...new Set(list.map((m) => m.group))].sort(),
      members: list.map((m) => ({ path: m.path, split: m.split, group: m.group, label: m.label, sha256: m.sha256 })),
    });
  }
  return clusters.sort((a, b) => b.members.length - a.members.length || a.members[0].path.localeCompare(b.members[0].path));
}

async function withThumbnails(ctx: CheckContext, clusters: DuplicateCluster[], max = 20): Promise<DuplicateCluster[]> {
  const out: DuplicateCluster[] = [];
  for (const [k, c] of clusters.entries()) {
    if (k >= max) { out.push(c); continue; }
    out.push({ ...c, members: await Promise.all(c.members.map(async (m, i) => (i < 6 ? { ...m, thumbnail: await ctx.thumbnail(m.path) } : m))) });
  }
  return out;
}

/** Exact and near duplicates inside each split: redundant copies and copies that carry different labels. */
export async function duplicatesCheck(ctx: CheckContext, clusters: DuplicateCluster[]): Promise<CheckResult> {
  const cfg = ctx.config.duplicates;
  const n = ctx.measured.length;
  let redundant = 0;
  const within: DuplicateCluster[] = [];
  for (const c of clusters) {
    const perSplit = new Map<string, number>();
    for (const m of c.members) perSplit.set(m.split, (perSplit.get(m.split) ?? 0) + 1);
    let extra = 0;
    for (const count of perSplit.values()) extra += count - 1;
    if (extra > 0) within.push(c);
    redundant += extra;
  }
  const conflicting = clusters.filter((c) => c.groups.length > 1);
  const fraction = n ? redundant / n : 0;
  const exact = within.filter((c) => c.kind === 'exact').length;
  const status: CheckStatus =
    fraction > cfg.failWithinFraction ? 'fail' : fraction > cfg.warnWithinFraction || conflicting.length ? 'warn' : 'pass';
  const identicalHash = within.filter((c) => c.kind === 'near' && c.maxDistance === 0).length;
  const example = within[0]?.members.slice(0, 3).map((m) => m.path).join(' ~ ');
  const summary = within.length
    ? `${within.length} duplicate groups inside splits (${exact} byte-identical, ${within.length - exact} near, of which ${identicalHash} with identical dHash): ${redundant} redundant images (${pct(fraction)}); largest: ${example}` +
      (conflicting.length ? `; ${conflicting.length} groups mix groups/labels (${conflicting.slice(0, 3).map((c) => c.groups.join('/')).join(', ')})` : '')
    : `no exact or near duplicates inside any split (dHash <= ${cfg.maxHamming} bits, layout difference <= ${cfg.maxLayoutDifference})`;
  return {
    id: 'duplicates',
    title: 'Exact and near duplicates',
    status,
    summary,
    evidence: {
      redundant,
      fraction,
      clusterCount: within.length,
      conflictingGroups: conflicting.length,
      clusters: await withThumbnails(ctx, within.slice(0, 200)),
      thresholds: cfg,
    },
  };
}

/** Duplicate groups spread over train/val/test: the same photo is then both learnt and tested. */
export async function leakageCheck(ctx: CheckContext, clusters: DuplicateCluster[]): Promise<CheckResult> {
  const cfg = ctx.config.duplicates;
  // Images not assigned to a split (outside the sampled mix) are not used, so they cannot leak.
  const splits = new Set(ctx.measured.map((m) => m.split).filter((s) => s !== UNSPLIT));
  if (splits.size <= 1) {
    const only = [...splits][0] ?? UNSPLIT;
    return {
      id: 'split-leakage',
      title: 'Duplicates across train/val/test (leakage)',
      status: 'pass',
      summary: only === UNSPLIT ? 'no splits assigned yet: nothing can leak' : `only one split (${only}): nothing can leak`,
      evidence: { clusters: [], pairs: [], thresholds: cfg },
    };
  }
  const leaking = clusters.filter((c) => c.splits.filter((s) => s !== UNSPLIT).length > 1);
  const pairs: Array<{ a: string; b: string; splits: string }> = [];
  for (const c of leaking) {
    for (let i = 0; i < c.members.length && pairs.length < 500; i++) {
      for (let j = i + 1; j < c.members.length; j++) {
        const [a, b] = [c.members[i].split, c.members[j].split];
        if (a !== b && a !== UNSPLIT && b !== UNSPLIT) {
          pairs.push({ a: c.members[i].path, b: c.members[j].path, splits: `${c.members[i].split}/${c.members[j].split}` });
        }
      }
    }
  }
  const bySplits: Record<string, number> = {};
  for (const c of leaking) bySplits[c.splits.join('/')] = (bySplits[c.splits.join('/')] ?? 0) + 1;
  const status: CheckStatus = leaking.length >= cfg.failLeakageGroups && leaking.length > 0 ? 'fail' : leaking.length ? 'warn' : 'pass';
  const summary = leaking.length
    ? `${leaking.length} duplicate groups span splits (${Object.entries(bySplits).map(([k, v]) => `${k}: ${v}`).join(', ')}), e.g. ${pairs[0].a} ~ ${pairs[0].b}`
    : `no exact or near duplicate crosses ${[...splits].sort().join('/')}`;
  return {
    id: 'split-leakage',
    title: 'Duplicates across train/val/test (leakage)',
    status,
    summary,
    evidence: { count: leaking.length, bySplits, pairs, clusters: await withThumbnails(ctx, leaking.slice(0, 200)), thresholds: cfg },
  };
}
