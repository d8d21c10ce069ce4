import type { TrainRunSettings } from './train-run.js';

/** What the parent sends a trial worker: train `settings.epochs` more epochs, from `resumeFrom` when given. */
export interface TrialTask {
  datasetName: string;
  sourceSpec: string;
  settings: TrainRunSettings;
  runName: string;
  parentId: string;
  tags: Record<string, string>;
  resumeFrom?: string;
}

export interface TrialTaskResult {
  score: number;
  runId: string;
  modelDir: string;
  epochsTrained: number;
  backend: string;
}
