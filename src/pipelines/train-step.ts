import type { DataSource, PreparedDataset } from '../data/types.js';
import { getRun } from '../tracking/runs.js';
import type { ValidationReport } from '../validation/types.js';
import { stableHash } from './stable-hash.js';
import { artifact, defineStep, observer, type StepArtifact, type StepObserver } from './step.js';
import type { FeatureMatrix } from '../model/backbone-features.js';
import { trainAndEvaluate, type TrainRunInput, type TrainRunOutput, type TrainRunSettings } from './train-run.js';

/** Which feedback photos went into the data, by record id (what the run's feedback tag counts). */
export interface FeedbackUse {
  used: Array<{ id: string; group: string }>;
  excluded: string[];
  suspicious: string[];
}

/** Feedback kept as features only: rows for the head (keyed by the records' ids, answers and feature hashes) and a summary. */
export interface FeatureFeedbackInput {
  summary: string;
  rows: StepArtifact<{ views: FeatureMatrix[]; labels: Uint8Array }> | null;
}

/** Everything the training step reads; its cache key is derived from this and nothing else. */
export interface TrainStepInput {
  settings: TrainRunSettings;
  /** The prepared splits, keyed by the data set's name and content key. */
  dataset: StepArtifact<PreparedDataset>;
  /** Where the images come from (the error gallery reads them), keyed by the source's id. */
  source: StepArtifact<DataSource>;
  /** The validation report attached to the run, keyed by its checks (not by when it was written). */
  validation: StepArtifact<{ file: string; summary: ValidationReport['summary'] }>;
  feedback: FeedbackUse | null;
  /** Absent (not null) when no feature feedback was asked for, so the cache keys of earlier runs stay. */
  featureFeedback?: FeatureFeedbackInput;
  /** The tuning run the training run is recorded under, when tuning ran. */
  tuningRunId: string | null;
  progress: StepObserver<TrainRunInput['onProgress']>;
}

export interface TrainStepValues {
  settings: TrainRunSettings;
  dataset: PreparedDataset;
  source: DataSource;
  report: ValidationReport;
  validationFile: string;
  feedback: FeedbackUse | null;
  featureFeedback?: FeatureFeedbackInput | null;
  tuningRunId: string | null;
  onProgress?: TrainRunInput['onProgress'];
}

/** What identifies a validation report's content: everything but when it was written and how long it took. */
export function validationReportId(report: ValidationReport): string {
  const { createdAt: _createdAt, timings: _timings, ...content } = report;
  return stableHash(content);
}

/** The training step's input from the pipeline's values. */
export function trainStepInput(v: TrainStepValues): TrainStepInput {
  return {
    settings: v.settings,
    dataset: artifact(`${v.dataset.name}@${v.dataset.key}`, v.dataset),
    source: artifact(v.source.id, v.source),
    validation: artifact(`${v.validationFile}@${validationReportId(v.report)}`, { file: v.validationFile, summary: v.report.summary }),
    feedback: v.feedback,
    ...(v.featureFeedback ? { featureFeedback: v.featureFeedback } : {}),
    tuningRunId: v.tuningRunId,
    progress: observer(v.onProgress),
  };
}

/** Train and evaluate in a tracked run; a cached output is reused while its run is still there and finished. */
export const trainStep = defineStep<TrainStepInput, TrainRunOutput>({
  name: 'train',
  // 3: backbone models read the whole view of each photo (BACKBONE_VIEW) and predict the mean over its mirror
  version: 3,
  run: (input, ctx) => {
    const { summary, file } = input.validation.value;
    const fb = input.feedback;
    return trainAndEvaluate({
      ...input.settings,
      name: 'train',
      dataset: input.dataset.value,
      source: input.source.value,
      parentId: input.tuningRunId,
      tags: {
        kind: 'training',
        validation: `${summary.pass} pass, ${summary.warn} warn, ${summary.fail} fail`,
        ...(fb ? { feedback: `${fb.used.length} used, ${fb.excluded.length} excluded, ${fb.suspicious.length} suspicious` } : {}),
        ...(input.featureFeedback ? { featureFeedback: input.featureFeedback.summary } : {}),
      },
      ...(input.featureFeedback?.rows ? { extraTrainFeatures: input.featureFeedback.rows.value } : {}),
      attach: { 'validation.json': file },
      onProgress: input.progress.value,
      log: ctx.log,
    });
  },
  stillValid: async (out) => (await getRun(out.runId))?.effectiveStatus === 'finished',
});
