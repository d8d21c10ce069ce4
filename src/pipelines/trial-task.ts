import type { ContentRef } from '../jobs/content-store.js';
import type { FeatureCacheKind } from '../jobs/feature-store.js';
import type { EpochLogs } from '../model/train.js';
import type { TrainRunSettings } from './train-run.js';

/** A split as a trial sees it on a pretrained backbone: labels, and each image's feature key per view. */
export interface TrialFeatureSplit {
  labels: number[];
  /** Keys in the content-addressed feature cache (`imageFeatureKey`) of the plain view. */
  keys: string[];
  /** The mirrored view's keys (training split with flip augmentation). */
  mirroredKeys?: string[];
}

/** A split as a trial of the CNN from scratch sees it: labels and the prepared pixels, by content. */
export interface TrialPixelSplit {
  labels: number[];
  pixels: ContentRef;
}

/**
 * The data a trial trains on, by content, so that a worker needs no data folder of the coordinator's: feature rows
 * from the shared feature cache (or in the job: `rows`, base64 float32, train plain, train mirrored, val, when
 * there is no shared cache), or prepared pixels from the content store.
 */
export type TrialData =
  | { kind: 'features'; backbone: string; size: number; cache: FeatureCacheKind; train: TrialFeatureSplit; val: TrialFeatureSplit; rows?: string }
  | { kind: 'pixels'; size: number; train: TrialPixelSplit; val: TrialPixelSplit };

/** What the coordinator sends a trial worker: train `settings.epochs` more epochs, from `resumeFrom` when given. */
export interface TrialTask {
  /** For messages: the child run the coordinator records the stint as. */
  runName: string;
  datasetName: string;
  settings: TrainRunSettings;
  data: TrialData;
  /** The weights of the trial's previous stint (a model bundle). */
  resumeFrom?: ContentRef;
  /** Where the worker keeps the trained weights (the executor's shared store, or 'none': in the result). */
  store: FeatureCacheKind;
}

export interface TrialTaskResult {
  /** Validation AUC of the best epoch. */
  score: number;
  history: EpochLogs[];
  bestEpoch: number;
  epochsTrained: number;
  backend: string;
  trainMs: number;
  /** The trained model as a bundle (`modelBundle`), which the next stint resumes from. */
  model: ContentRef;
}
