import type { ManifestEntry } from '../data/types.js';
import type { ValidationConfig } from './config.js';
import type { MeasuredImage, PropertyValues } from './types.js';

/** An accepted file that could not be decoded when the validation measured it. */
export interface UnreadableImage {
  path: string;
  group: string;
  split: string;
  error: string;
}

/** One prepared image (what the model sees) with its properties re-measured. */
export interface MeasuredPrepared {
  path: string;
  group: string;
  label: number;
  split: string;
  props: PropertyValues;
}

/** Everything the checks read. Checks are pure functions of this (label errors also read thumbnails). */
export interface CheckContext {
  config: ValidationConfig;
  entries: ManifestEntry[];
  measured: MeasuredImage[];
  unreadable: UnreadableImage[];
  prepared?: MeasuredPrepared[];
  /** Prepared image size, when prepared data was given. */
  preparedSize?: number;
  /** The pretrained backbone the data is prepared for; null for a CNN from scratch; undefined when not known. */
  backbone?: string | null;
  /** Small JPEG data URIs of images by path (for evidence). */
  thumbnail(path: string): Promise<string | undefined>;
}

export const UNSPLIT = 'all';

export function splitOf(entry: { split?: string }): string {
  return entry.split ?? UNSPLIT;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
