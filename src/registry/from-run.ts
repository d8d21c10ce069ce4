import fs from 'node:fs';
import path from 'node:path';
import { MODEL_JSON, savedBackboneLayers, type LayersModelJson } from '../model/io.js';
import { readJson } from '../storage/atomic.js';
import { artifactPath, getRun } from '../tracking/runs.js';
import { headlineMetrics } from '../evaluation/report.js';
import { describeStrategy } from '../evaluation/threshold.js';
import type { EvaluationReport } from '../evaluation/types.js';
import { registerModel } from './registry.js';
import { modelCardDetails } from './model-card.js';
import type { CardMetrics, PromotedModel } from './types.js';

export interface RegisterFromRunOptions {
  /** Registry folder; defaults to paths.registry(). */
  root?: string;
  /** Runs folder; defaults to paths.runs(). */
  runsRoot?: string;
  /** Artifact holding the saved tfjs model; default 'model'. */
  modelArtifact?: string;
  /** Artifact holding the EvaluationReport; default 'evaluation.json'. */
  evaluationArtifact?: string;
  /** Input size; default the run's `imageSize` (or `size`) param. */
  imageSize?: number;
}

/** Card metrics from an evaluation report; a ratio with no denominator (e.g. no cats predicted) counts as 0. */
export function cardMetricsFromReport(report: EvaluationReport): CardMetrics {
  const h = headlineMetrics(report);
  return { ...h, precision: h.precision ?? 0, recall: h.recall ?? 0, f1: h.f1 ?? 0, accuracy: h.accuracy ?? 0, rocAuc: h.rocAuc, prAuc: h.prAuc };
}

/**
 * Register the model of a finished run: its model artifact, the test metrics and threshold from its evaluation
 * report, and its data set's manifest hash.
 */
export async function registerFromRun(runId: string, opts: RegisterFromRunOptions = {}): Promise<PromotedModel> {
  const run = await getRun(runId, { root: opts.runsRoot });
  if (!run) throw new Error(`no run with id "${runId}"`);
  if (run.effectiveStatus !== 'finished') throw new Error(`run ${run.id} is ${run.effectiveStatus}; only finished runs can be registered`);
  const modelDir = artifactPath(run, opts.modelArtifact ?? 'model');
  if (!fs.existsSync(modelDir)) throw new Error(`run ${run.id} has no model artifact (${opts.modelArtifact ?? 'model'})`);
  const evalFile = artifactPath(run, opts.evaluationArtifact ?? 'evaluation.json');
  if (!fs.existsSync(evalFile)) throw new Error(`run ${run.id} has no evaluation report (${opts.evaluationArtifact ?? 'evaluation.json'})`);
  const report = await readJson<EvaluationReport>(evalFile);
  const manifestHash = run.dataset?.manifestHash;
  if (!manifestHash) throw new Error(`run ${run.id} did not record its data set's manifest hash`);
  const sizeParam = run.params.imageSize ?? run.params.size;
  const imageSize = opts.imageSize ?? (typeof sizeParam === 'number' ? sizeParam : NaN);
  if (!Number.isInteger(imageSize)) throw new Error(`run ${run.id} has no imageSize param; pass imageSize`);
  // The view the head was trained on, from the saved model itself (what serving will refuse or accept).
  const modelJson = path.join(modelDir, MODEL_JSON);
  const layers = fs.existsSync(modelJson) ? savedBackboneLayers(await readJson<LayersModelJson>(modelJson)) : [];
  return registerModel({
    root: opts.root,
    modelDir,
    runId: run.id,
    dataset: { name: run.dataset?.name ?? null, manifestHash },
    metrics: cardMetricsFromReport(report),
    threshold: report.threshold.threshold,
    thresholdStrategy: describeStrategy(report.threshold.strategy),
    imageSize,
    notes: { backend: run.backend, gitCommit: run.git.commit },
    details: modelCardDetails({
      dataset: run.dataset?.name ?? null,
      backbone: typeof run.params.backbone === 'string' && run.params.backbone !== 'none' ? run.params.backbone : null,
      backboneView: layers[0]?.view ?? null,
      report,
    }),
  });
}
