/**
 * On-disk shapes of the model registry. Layout under `paths.registry()`:
 *
 *   versions/v1/            a complete, immutable model version: the tfjs files (model.json, *.bin) and card.json
 *   versions/v2/ ...        a version directory appears only once complete (built in a temp dir, then renamed)
 *   promoted.json           PromotedPointer, replaced atomically (write temp + rename); absent = nothing promoted
 *   decisions.jsonl         one Decision per line, append-only: every gate decision, forced promotion and rollback
 *
 * Readers (server, site): call `readPromoted()` from `src/registry/registry.js`, which reads only promoted.json
 * (the card is embedded) and returns `{ version, dir, card } | null` (`readPromotedPointer()` gives the stored
 * pointer with when and by which decision; `promotedPointerPath()` where it is). Only registry.ts joins these paths. Because the pointer is written after the
 * version directory is complete and versions never change, a reader never sees a half-written promoted model.
 */

import type { ModelCardDetails } from './model-card.js';

export const REGISTRY_SCHEMA = 1;

/** Metrics of a model on one test split, at the chosen threshold (threshold-free ones: rocAuc, prAuc). */
export interface CardMetrics {
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  rocAuc: number | null;
  prAuc: number | null;
  /** Any further numbers (e.g. per-group positive rates as `positiveRate.dog`). */
  [key: string]: number | null;
}

/** `versions/v<N>/card.json`. */
export interface ModelCard {
  schema: typeof REGISTRY_SCHEMA;
  /** Version number; the directory is `v<version>`. */
  version: number;
  /** Tracking run that produced the model (null when registered from a bare directory). */
  runId: string | null;
  dataset: {
    name: string | null;
    /** Manifest hash of the data set the test metrics were measured on; the gate compares only equal hashes. */
    manifestHash: string;
  };
  /** Metrics on the test split. */
  metrics: CardMetrics;
  /** Decision threshold on p(cat), chosen on the validation split. */
  threshold: number;
  thresholdStrategy: string;
  /** Square input size in pixels (images are resized to imageSize x imageSize x 3). */
  imageSize: number;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** Files of the model in the version directory (relative names), e.g. ['model.json', 'group1-shard1of1.bin']. */
  files: string[];
  /** Free-form notes (e.g. backend, training time). */
  notes?: Record<string, string | number | boolean | null>;
  /** Intended use, data sources and licences, per-group evaluation, failure modes, threshold (from the training run). */
  details?: ModelCardDetails;
}

/** `promoted.json`. */
export interface PromotedPointer {
  schema: typeof REGISTRY_SCHEMA;
  version: number;
  /** Version directory relative to the registry root, e.g. `versions/v3`. */
  dir: string;
  card: ModelCard;
  promotedAt: string;
  /** Id of the Decision that set this pointer. */
  decisionId: string;
}

/** What `readPromoted()` returns; `dir` is absolute. */
export interface PromotedModel {
  version: number;
  dir: string;
  card: ModelCard;
}

export type PrimaryMetric = 'f1' | 'prAuc' | 'rocAuc' | 'precision' | 'recall' | 'accuracy';

export interface PromotionPolicy {
  minPrecision: number;
  minRecall: number;
  /** Metric compared against the champion. */
  primaryMetric: PrimaryMetric;
  /** Candidate passes when candidate >= champion - tolerance on the primary metric. */
  tolerance: number;
  /**
   * When the champion was measured on a different test set (manifest hash differs) the comparison is meaningless:
   * 'reject' (default) refuses promotion; 'ignore-champion' decides on the minimums alone.
   */
  onDifferentTestSet: 'reject' | 'ignore-champion';
  /**
   * A candidate whose card carries a baseline's numbers (the zero-shot classifier on the same photos): 'must-beat'
   * (default) refuses one that is not better on the primary metric; 'ignore' leaves the baseline out of the decision.
   */
  baseline: 'must-beat' | 'ignore';
}

export interface GateCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface GateResult {
  promote: boolean;
  checks: GateCheck[];
  /** Human-readable reasons, one per check that decided the outcome (all checks when promoted). */
  reasons: string[];
}

export type DecisionAction = 'promote' | 'reject' | 'force-promote' | 'rollback';

/** One line of `decisions.jsonl`. */
export interface Decision {
  id: string;
  time: string;
  action: DecisionAction;
  /** Version the decision was about. */
  candidate: number;
  /** Promoted version before the decision (null when none). */
  previous: number | null;
  /** Promoted version after the decision (null when none). */
  promoted: number | null;
  reasons: string[];
  checks: GateCheck[];
  policy: PromotionPolicy | null;
  /** Reason given by the user (required for force and rollback). */
  userReason: string | null;
  user: string | null;
}
