import { metricsAt } from './classification-metrics.js';

/** One scored photo with the upstream source it came from (a data folder's manifest.csv names it). */
export interface SourcedScore {
  source: string;
  group: string;
  /** 1 = cat. */
  label: 0 | 1;
  prob: number;
}

/** How a model does on the photos of one source, at one threshold. */
export interface SourceMetrics {
  source: string;
  n: number;
  /** Null when nothing of the source was called a cat. */
  precision: number | null;
  /** Null when the source has no cats. */
  recall: number | null;
  /** Per group: photos, how many were called cats, and that share (recall for cats, false-positive rate otherwise). */
  groups: Record<string, { n: number; calledCat: number; rate: number | null }>;
}

/** Raised when the data does not name at least two sources, so there is nothing to break down. */
export class NoSourcesError extends Error {
  constructor(only: string | null) {
    super(
      only === null
        ? 'no scored photos, so no sources to report'
        : `the data names one source only ("${only}"): per-source numbers need a manifest.csv with a "source" column naming where each photo came from`,
    );
    this.name = 'NoSourcesError';
  }
}

/** Precision, recall and the share of each group called a cat, for the photos of one source. */
export function sourceMetrics(source: string, rows: readonly SourcedScore[], threshold: number): SourceMetrics {
  const m = metricsAt(rows.map((r) => r.label), rows.map((r) => r.prob), threshold);
  const groups: SourceMetrics['groups'] = {};
  for (const r of rows) {
    const g = (groups[r.group] ??= { n: 0, calledCat: 0, rate: null });
    g.n++;
    if (r.prob >= threshold) g.calledCat++;
  }
  for (const g of Object.values(groups)) g.rate = g.n ? g.calledCat / g.n : null;
  return { source, n: rows.length, precision: m.precision, recall: m.recall, groups };
}

/** `sourceMetrics` for every source (sorted by name); throws NoSourcesError when fewer than two sources are named. */
export function metricsBySource(rows: readonly SourcedScore[], threshold: number): SourceMetrics[] {
  const bySource = new Map<string, SourcedScore[]>();
  for (const r of rows) {
    const list = bySource.get(r.source);
    if (list) list.push(r);
    else bySource.set(r.source, [r]);
  }
  if (bySource.size < 2) throw new NoSourcesError(bySource.size === 1 ? [...bySource.keys()][0] : null);
  return [...bySource.keys()].sort().map((s) => sourceMetrics(s, bySource.get(s)!, threshold));
}

/** A fixed-width text table of per-source numbers (what the CLI prints). */
export function sourceTable(rows: readonly SourceMetrics[], title = 'source'): string {
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));
  const groups = [...new Set(rows.flatMap((r) => Object.keys(r.groups)))].sort();
  const width = Math.max(title.length, ...rows.map((r) => r.source.length));
  const head = [title.padEnd(width), 'n'.padStart(5), 'precision', '   recall', ...groups.map((g) => `${g} called cat`)];
  const lines = [head.join('  ')];
  for (const r of rows) {
    lines.push(
      [
        r.source.padEnd(width),
        String(r.n).padStart(5),
        fmt(r.precision).padStart(9),
        fmt(r.recall).padStart(9),
        ...groups.map((g) => (r.groups[g] ? `${fmt(r.groups[g].rate)} of ${r.groups[g].n}` : '-').padStart(`${g} called cat`.length)),
      ].join('  '),
    );
  }
  return lines.join('\n');
}

/** One leave-one-source-out fold: a model trained without the source, scored on every photo of it. */
export interface HeldOutSource {
  source: string;
  /** Training and validation photos left after removing the source. */
  trainN: number;
  valN: number;
  epochsTrained: number;
  /** Chosen on the remaining validation photos. */
  threshold: number;
  /** Every photo of the held-out source (all splits), at that threshold. */
  heldOut: SourceMetrics;
  /** Null when the source has one class only. */
  heldOutRocAuc: number | null;
  /** The same model on the test split of the other sources, for comparison. */
  others: { n: number; precision: number | null; recall: number | null };
}

/** The worst fold numbers over sources with cats / with dogs (what source-held-out acceptance asks about). */
export interface HeldOutSummary {
  minCatRecall: number | null;
  maxDogCalledCat: number | null;
}

/** Worst cat recall and worst share of dogs called cats over the folds (null when no fold has that group). */
export function worstFolds(folds: readonly HeldOutSource[]): HeldOutSummary {
  const recalls = folds.map((f) => f.heldOut.groups.cat?.rate).filter((x): x is number => typeof x === 'number');
  const dogs = folds.map((f) => f.heldOut.groups.dog?.rate).filter((x): x is number => typeof x === 'number');
  return { minCatRecall: recalls.length ? Math.min(...recalls) : null, maxDogCalledCat: dogs.length ? Math.max(...dogs) : null };
}
