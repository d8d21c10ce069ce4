import { exists, readJson } from '../storage/atomic.js';
import { artifactPath, getRun, listRuns, readEpochs, type RunRef } from '../tracking/runs.js';
import type { ParamValue, RunView } from '../tracking/types.js';
import type { EvaluationReport } from '../evaluation/types.js';
import type { HeldOutSource, HeldOutSummary } from '../evaluation/by-source.js';
import { fileThumbnailDataUri } from '../data/thumbnail.js';

/** One row of the runs table. */
export interface RunSummary {
  id: string;
  name: string;
  status: string;
  parentId: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  dataset: string | null;
  /** 'study' when other runs point at it as parent, 'trial' when it has a parent, else 'training'. */
  kind: 'training' | 'study' | 'trial';
  children: number;
  metrics: Record<string, number>;
}

export interface TrialPoint {
  id: string;
  name: string;
  status: string;
  score: number | null;
  /** Epoch budget of the rung (successive halving), from the trial's `budget` tag. */
  budget: string | null;
  params: Record<string, ParamValue>;
}

/** Settings of the conv blocks trained from scratch: a model on a pretrained backbone does not use them. */
export const CONV_BLOCK_PARAMS = ['convBlocks', 'filters', 'kernelSize', 'batchNorm'] as const;

/** The parameters that shaped the model: for a pretrained-backbone model, the head's (the conv-block settings dropped). */
export function modelParams(params: Record<string, ParamValue>): { params: Record<string, ParamValue>; unused: string[] } {
  const backbone = params.backbone;
  if (typeof backbone !== 'string' || !backbone || backbone === 'none') return { params, unused: [] };
  const unused = CONV_BLOCK_PARAMS.filter((k) => k in params);
  return { params: Object.fromEntries(Object.entries(params).filter(([k]) => !unused.includes(k as never))), unused };
}

export interface RunPageData {
  found: boolean;
  id: string;
  run: RunSummary | null;
  /** The run's parameters as the model used them (see modelParams); `unusedParams` names those left out. */
  params: Record<string, ParamValue>;
  unusedParams: string[];
  tags: Record<string, string>;
  timings: Record<string, number>;
  git: { commit: string | null; dirty: boolean | null } | null;
  backend: string | null;
  error: string | null;
  artifacts: { name: string; kind: string; bytes: number }[];
  /** Learning curves in long form: one row per epoch and metric. */
  curves: { epoch: number; metric: string; value: number }[];
  evaluation: EvaluationReport | null;
  /** Trials of a tuning study with their score, and the metric the score is. */
  trials: { metric: string | null; points: TrialPoint[] };
  /** A leave-one-source-out run's folds (artifacts/sources.json), else null. */
  sources: { folds: HeldOutSource[]; summary: HeldOutSummary } | null;
}

/** Ids of every readable run, oldest first (run ids sort by start time). */
export async function siteRunIds(): Promise<string[]> {
  const { runs } = await listRuns();
  return runs.map((r) => r.id).sort();
}

/** Kind of a run: its `kind` tag when the pipeline set one, else from the parent links. */
function kindOf(run: RunView, children: number): RunSummary['kind'] {
  const tag = run.tags.kind;
  if (tag === 'tuning' || tag === 'study') return 'study';
  if (tag === 'trial') return 'trial';
  if (tag === 'training') return 'training';
  return children > 0 ? 'study' : run.parentId ? 'trial' : 'training';
}

/** The trials of a study: children tagged as trials when tags are used (a final training run may be a child too). */
function trialsOf(study: RunView, all: RunView[]): RunView[] {
  const children = all.filter((r) => r.parentId === study.id);
  const tagged = children.filter((r) => r.tags.kind === 'trial');
  return (children.some((r) => r.tags.kind) ? tagged : children).sort((a, b) => a.id.localeCompare(b.id));
}

function summarize(run: RunView, all: RunView[]): RunSummary {
  const children = all.filter((r) => r.parentId === run.id).length;
  return {
    id: run.id,
    name: run.name,
    status: run.effectiveStatus,
    parentId: run.parentId,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: run.durationMs,
    dataset: run.dataset?.name ?? null,
    kind: kindOf(run, children),
    children,
    metrics: run.metrics,
  };
}

/** All runs, newest first, plus the run directories that could not be read. */
export async function runsListData(): Promise<{ runs: RunSummary[]; broken: { id: string; problem: string }[] }> {
  const { runs, broken } = await listRuns();
  const rows = runs.map((r) => summarize(r, runs)).sort((a, b) => b.id.localeCompare(a.id));
  return { runs: rows, broken: broken.map((b) => ({ id: b.id, problem: b.problem })) };
}

/** The run's evaluation report (artifacts/evaluation.json), with thumbnails filled in where the image is at hand. */
export async function readEvaluation(run: RunRef): Promise<EvaluationReport | null> {
  const file = artifactPath(run, 'evaluation.json');
  if (!(await exists(file))) return null;
  const report = await readJson<EvaluationReport>(file);
  for (const split of [report.test, report.val]) {
    if (!split) continue;
    for (const e of [...split.errors.falsePositives, ...split.errors.falseNegatives]) {
      if (!e.thumbnail) e.thumbnail = (await fileThumbnailDataUri(e.path, { size: 96, fit: 'cover' })) ?? undefined;
    }
  }
  return report;
}

/** The folds of a leave-one-source-out run (artifacts/sources.json), or null for other runs. */
export async function readSources(run: RunRef): Promise<RunPageData['sources']> {
  const file = artifactPath(run, 'sources.json');
  if (!(await exists(file))) return null;
  const { folds, summary } = await readJson<{ folds: HeldOutSource[]; summary: HeldOutSummary }>(file);
  return { folds, summary };
}

/** The metric trials were scored on: the study's `metric` param when given, else one all trials report. */
export function trialMetric(study: RunView, trials: RunView[]): string | null {
  const named = study.params.metric ?? study.params.objective ?? study.tags.metric;
  if (typeof named === 'string' && trials.some((t) => typeof t.metrics[named] === 'number')) return named;
  const common = Object.keys(trials[0]?.metrics ?? {}).filter((k) => trials.every((t) => k in t.metrics));
  const preferred = ['score', 'val_auc', 'val_f1', 'val_prAuc', 'val_rocAuc', 'val_acc', 'val_accuracy', 'val_loss'];
  return preferred.find((k) => common.includes(k)) ?? common.find((k) => k.startsWith('val')) ?? common[0] ?? null;
}

/** Everything the page of one run shows. A missing run gives `found: false`, not an error. */
export async function runPageData(id: string): Promise<RunPageData> {
  const empty: RunPageData = {
    found: false, id, run: null, params: {}, unusedParams: [], tags: {}, timings: {}, git: null, backend: null, error: null,
    artifacts: [], curves: [], evaluation: null, trials: { metric: null, points: [] }, sources: null,
  };
  const run = await getRun(id);
  if (!run) return empty;
  const { runs } = await listRuns();
  const epochs = await readEpochs(run);
  const curves = epochs.flatMap((e) =>
    Object.entries(e.metrics)
      .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
      .map(([metric, value]) => ({ epoch: e.epoch, metric, value })),
  );
  const trials = trialsOf(run, runs);
  const metric = trials.length ? trialMetric(run, trials) : null;
  return {
    found: true,
    id,
    run: summarize(run, runs),
    params: modelParams(run.params).params,
    unusedParams: modelParams(run.params).unused,
    tags: run.tags,
    timings: run.timings,
    git: run.git,
    backend: run.backend,
    error: run.error?.message ?? null,
    artifacts: run.artifacts.map((a) => ({ name: a.name, kind: a.kind, bytes: a.bytes })),
    curves,
    evaluation: await readEvaluation(run),
    trials: {
      metric,
      points: trials.map((t) => ({
        id: t.id,
        name: t.name,
        status: t.effectiveStatus,
        score: metric && typeof t.metrics[metric] === 'number' ? t.metrics[metric] : null,
        budget: t.tags.budget ?? null,
        params: t.params,
      })),
    },
    sources: await readSources(run),
  };
}
