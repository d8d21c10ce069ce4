import type { ValidationConfig } from './config.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, used to override a failing check: `--allow-check <id>`. */
  id: string;
  title: string;
  status: CheckStatus;
  /** One line for tables and logs. */
  summary: string;
  /** What the status rests on, shaped for charts and tables on the validation page. */
  evidence: Record<string, unknown>;
}

export interface ValidationReport {
  createdAt: string;
  dataset: string;
  config: ValidationConfig;
  summary: { pass: number; warn: number; fail: number };
  /** Image counts the checks saw. */
  counts: { entries: number; accepted: number; rejected: number; measured: number; prepared: number };
  /** Wall time of each stage in ms. */
  timings: Record<string, number>;
  checks: CheckResult[];
}

/** The properties measured on every image (appearance on a small copy, geometry from the file). */
export const APPEARANCE_PROPERTIES = ['brightness', 'contrast', 'sharpness', 'colourfulness', 'saturation'] as const;
export const GEOMETRY_PROPERTIES = ['width', 'height', 'aspect'] as const;
export const PROPERTY_NAMES = [...APPEARANCE_PROPERTIES, ...GEOMETRY_PROPERTIES] as const;
export type PropertyName = (typeof PROPERTY_NAMES)[number];

export type PropertyValues = Record<PropertyName, number>;

export interface ImageProperties extends PropertyValues {
  /** 64-bit difference hash of the image (used when the manifest has none). */
  dhash: string;
  /** Content features for the label-error model: downsampled pixels, colour histograms, texture statistics. */
  features: number[];
}

/** One measured image: where it is, what it claims to be, and its properties. */
export interface MeasuredImage {
  path: string;
  group: string;
  label: 0 | 1;
  split: string;
  sha256: string;
  phash: string;
  props: ImageProperties;
}

export function worstStatus(statuses: CheckStatus[]): CheckStatus {
  if (statuses.includes('fail')) return 'fail';
  if (statuses.includes('warn')) return 'warn';
  return 'pass';
}
