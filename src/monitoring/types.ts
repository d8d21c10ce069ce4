import type { PropertyValues } from '../validation/types.js';

/** One line of `predictions-YYYY-MM-DD.jsonl`: a prediction the server made (no image is kept). */
export interface PredictionLogEntry {
  time: string;
  version: number;
  probability: number;
  decision: 'cat' | 'not-cat';
  latencyMs: number;
  /** Image properties of the input (measured like the training data); absent when the server skipped measuring. */
  properties?: PropertyValues;
}
