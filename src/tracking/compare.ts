import { getRun } from './runs.js';
import type { ParamValue, RunView } from './types.js';

export interface ComparisonRow<V> {
  key: string;
  /** One value per compared run, in the order given; null when the run lacks the key. */
  values: Array<V | null>;
  differs: boolean;
}

export interface RunComparison {
  runs: Array<{ id: string; name: string; status: string; startedAt: string; dataset: string | null; manifestHash: string | null; gitCommit: string | null; durationMs: number | null }>;
  /** Whether all runs used the same data (same manifest hash): metrics are only comparable then. */
  sameData: boolean;
  params: ComparisonRow<ParamValue>[];
  metrics: ComparisonRow<number>[];
}

function rows<V>(runs: RunView[], pick: (r: RunView) => Record<string, V>): ComparisonRow<V>[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort();
  return keys.map((key) => {
    const values = runs.map((r) => (key in pick(r) ? pick(r)[key] : null));
    const texts = values.map((v) => JSON.stringify(v));
    return { key, values, differs: texts.some((t) => t !== texts[0]) };
  });
}

/** Side-by-side params and metrics of two or more runs. */
export async function compareRuns(ids: string[], opts: { root?: string } = {}): Promise<RunComparison> {
  if (ids.length < 2) throw new Error('compare needs at least two run ids');
  const runs: RunView[] = [];
  for (const id of ids) {
    const r = await getRun(id, opts);
    if (!r) throw new Error(`no run with id "${id}"`);
    runs.push(r);
  }
  const hashes = runs.map((r) => r.dataset?.manifestHash ?? null);
  return {
    runs: runs.map((r) => ({
      id: r.id,
      name: r.name,
      status: r.effectiveStatus,
      startedAt: r.startedAt,
      dataset: r.dataset?.name ?? null,
      manifestHash: r.dataset?.manifestHash ?? null,
      gitCommit: r.git.commit,
      durationMs: r.durationMs,
    })),
    sameData: hashes[0] !== null && hashes.every((h) => h === hashes[0]),
    params: rows(runs, (r) => r.params),
    metrics: rows(runs, (r) => r.metrics),
  };
}
