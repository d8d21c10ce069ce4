import type { Executor } from '../jobs/job.js';
import { metricsAt } from '../evaluation/classification-metrics.js';
import { rocAuc } from '../stats/roc-auc.js';
import { predictSpec } from './predict-spec.js';
import { metricsBySource, type SourceMetrics } from '../evaluation/by-source.js';
import type { Progress } from '../progress/index.js';

export interface FolderEvaluation {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  accuracy: number | null;
  rocAuc: number | null;
  threshold: number;
  n: number;
  modelVersion: number;
  positiveGroup: string;
  /** Per group: images scored, how many were called cats, and that rate (recall for cats, false-positive rate otherwise). */
  groups: Record<string, { n: number; calledCat: number; rate: number | null }>;
  /** With `bySource`: the same numbers for every source the data's manifest.csv names. */
  bySource?: SourceMetrics[];
  rejected: { n: number; byReason: Record<string, number> };
}

/**
 * Evaluate a labelled source in the `<group>/*` layout with a registered model (default: the promoted one) at the
 * model's own threshold. Label 1 means the group is `positiveGroup` (default 'cat'). With `bySource`, also per
 * upstream source (a NoSourcesError when the data names fewer than two). Backbone features are kept in the
 * feature cache, so evaluating the same photos again only runs the head.
 */
export async function evaluateLabelledSource(
  spec: string,
  opts: { model?: number | string; positiveGroup?: string; bySource?: boolean; onProgress?: Progress; executor?: Executor; shardSize?: number } = {},
): Promise<FolderEvaluation> {
  const positive = opts.positiveGroup ?? 'cat';
  const { entry: registered, rows } = await predictSpec(spec, opts);
  const scored = rows.filter((r) => r.probability !== null);
  if (scored.length === 0) throw new Error(`no usable images found in ${spec} (expected <group>/<image> files)`);
  const labels = scored.map((r) => (r.group === positive ? 1 : 0));
  const probs = scored.map((r) => r.probability as number);
  const threshold = registered.card.threshold;
  const m = metricsAt(labels, probs, threshold);
  const groups: FolderEvaluation['groups'] = {};
  for (const r of scored) {
    const g = (groups[r.group] ??= { n: 0, calledCat: 0, rate: null });
    g.n++;
    if (r.isCat) g.calledCat++;
  }
  for (const g of Object.values(groups)) g.rate = g.n ? g.calledCat / g.n : null;
  const bySource = opts.bySource
    ? metricsBySource(scored.map((r) => ({ source: r.source, group: r.group, label: r.group === positive ? 1 : 0, prob: r.probability as number })), threshold)
    : undefined;
  const byReason: Record<string, number> = {};
  for (const r of rows) if (r.error) byReason[r.error] = (byReason[r.error] ?? 0) + 1;
  return {
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    accuracy: m.accuracy,
    rocAuc: rocAuc(labels, probs),
    threshold,
    n: scored.length,
    modelVersion: registered.version,
    positiveGroup: positive,
    groups,
    rejected: { n: rows.length - scored.length, byReason },
    ...(bySource ? { bySource } : {}),
  };
}
