import { DEFAULT_MIX, DEFAULT_POSITIVE_GROUP } from '../data/types.js';

/** Thresholds of every check. Each check reads only its own section; `mergeValidationConfig` fills defaults. */
export interface ValidationConfig {
  /** Target share of each group among accepted images (the training mix). */
  mix: Record<string, number>;
  positiveGroup: string;
  /** Longest side of the copy every property is measured on. */
  propertySize: number;
  /** Images decoded at once. */
  concurrency: number;
  /** Side of the JPEG thumbnails embedded in the report. */
  thumbnailSize: number;
  integrity: {
    /** Images whose shorter side is below this are "tiny". */
    minSide: number;
    /** Width/height (or height/width) above this is an extreme aspect ratio. */
    maxAspect: number;
    /** Standard deviation of grey levels (0-255) below this is a near-constant image. */
    minContrast: number;
    /** Share of accepted images with a problem (unreadable, tiny, extreme aspect, near-constant) that fails. */
    failProblemFraction: number;
    /** Share of rejected files (already excluded from training) that fails; any rejection warns. */
    failRejectedFraction: number;
  };
  balance: {
    /** Absolute difference between a group's share and its target share that warns / fails. */
    warnDeviation: number;
    failDeviation: number;
  };
  duplicates: {
    /** Two images are near duplicates when their 64-bit difference hashes differ in at most this many bits. */
    maxHamming: number;
    /** ... and their 8x8 RGB layouts differ by at most this mean absolute difference (0-1). */
    maxLayoutDifference: number;
    /** Duplicate groups spanning train/val/test (leakage) at or above this count fail. */
    failLeakageGroups: number;
    /** Share of images inside one split that are redundant copies: above warn warns, above fail fails. */
    warnWithinFraction: number;
    failWithinFraction: number;
  };
  outliers: {
    /** |robust z| = |x - median| / (1.4826 MAD) above this is an outlier. */
    robustZ: number;
    /** A property whose outlier share exceeds this warns. */
    warnFraction: number;
    /** Outliers listed per property in the report. */
    maxListed: number;
  };
  drift: {
    ksWarn: number;
    ksFail: number;
    psiWarn: number;
    psiFail: number;
    /** Quantile bins of the reference split for the PSI. */
    bins: number;
    /** A shift (KS or PSI) only counts when the KS p-value is below this: small splits are noisy. */
    maxPValue: number;
  };
  shortcuts: {
    /**
     * Properties a model must never learn the label from (geometry of the file): a group-prediction score or a
     * label AUC at or above the fail thresholds fails -- unless the prepared images no longer show it.
     */
    strictProperties: string[];
    /** Group-prediction score (0 = no better than guessing the largest group, 1 = perfect). */
    strictScore: number;
    /** Single-feature AUC for the label, as max(AUC, 1 - AUC). */
    strictAuc: number;
    /** Thresholds for the other (appearance) properties: these only warn, as content explains part of them. */
    appearanceScore: number;
    appearanceAuc: number;
    /** Cross-validation folds and bins of the single-property group predictor. */
    folds: number;
    bins: number;
  };
  labelErrors: {
    folds: number;
    /** An image is a candidate when the out-of-fold probability of its given group is below this. */
    maxGivenProbability: number;
    /** Share of candidates above which the check warns (0 = any candidate warns). */
    warnFraction: number;
    /** Share of candidates above which the check fails (1 = never). */
    failFraction: number;
    /** Candidates listed (with thumbnails) in the report. */
    maxListed: number;
    epochs: number;
    l2: number;
    seed: string;
  };
}

export const DEFAULT_VALIDATION_CONFIG: ValidationConfig = {
  mix: DEFAULT_MIX,
  positiveGroup: DEFAULT_POSITIVE_GROUP,
  propertySize: 64,
  concurrency: 4,
  thumbnailSize: 64,
  integrity: { minSide: 32, maxAspect: 4, minContrast: 4, failProblemFraction: 0.02, failRejectedFraction: 0.5 },
  balance: { warnDeviation: 0.05, failDeviation: 0.1 },
  duplicates: { maxHamming: 6, maxLayoutDifference: 0.05, failLeakageGroups: 1, warnWithinFraction: 0, failWithinFraction: 0.05 },
  outliers: { robustZ: 4, warnFraction: 0.02, maxListed: 20 },
  drift: { ksWarn: 0.1, ksFail: 0.2, psiWarn: 0.1, psiFail: 0.25, bins: 10, maxPValue: 0.01 },
  shortcuts: {
    strictProperties: ['width', 'height', 'aspect'],
    strictScore: 0.2,
    strictAuc: 0.7,
    appearanceScore: 0.3,
    appearanceAuc: 0.85,
    folds: 5,
    bins: 10,
  },
  labelErrors: {
    folds: 5,
    maxGivenProbability: 0.05,
    warnFraction: 0,
    failFraction: 1,
    maxListed: 24,
    epochs: 15,
    l2: 0.01,
    seed: 'label-errors',
  },
};

/** What a caller may give: any section in part (the mix and lists are replaced whole). */
export type ValidationConfigInput = {
  [K in keyof ValidationConfig]?: K extends 'mix' ? ValidationConfig[K] : ValidationConfig[K] extends object ? Partial<ValidationConfig[K]> : ValidationConfig[K];
};

/** Defaults overridden section by section by what the caller gives. */
export function mergeValidationConfig(input: ValidationConfigInput = {}): ValidationConfig {
  const out = structuredClone(DEFAULT_VALIDATION_CONFIG) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!(key in out)) throw new Error(`unknown validation setting "${key}"`);
    const base = out[key];
    if (base && typeof base === 'object' && !Array.isArray(base) && key !== 'mix') {
      for (const sub of Object.keys(value as object)) {
        if (!(sub in base)) throw new Error(`unknown validation setting "${key}.${sub}"`);
      }
      out[key] = { ...base, ...(value as object) };
    } else {
      out[key] = value;
    }
  }
  const config = out as unknown as ValidationConfig;
  const total = Object.values(config.mix).reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('validation mix must have positive shares');
  return config;
}
