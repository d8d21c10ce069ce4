import { mirrorSquares } from '../data/mirror.js';
import type { PreparedSplit } from '../data/types.js';
import type { BehaviourCheck, BehaviourReport } from './types.js';
import { sliceMetrics } from './slices.js';

/** p(cat) for n images of size x size x 3 bytes, row-major (the PreparedSplit pixel layout). */
export type PredictPixels = (pixels: Uint8Array, n: number, size: number) => Promise<ArrayLike<number>>;

export type BehaviourInput = Pick<PreparedSplit, 'size' | 'n' | 'pixels' | 'labels' | 'groups'>;

export interface BehaviourLimits {
  /** Largest allowed mean |p(original) - p(transformed)|. */
  maxMeanDelta: number;
  /** Largest allowed share of images whose decision changes. */
  maxFlipRate: number;
  /** Brightness factors to try (pixel values are multiplied and clamped). */
  brightnessFactors: number[];
  /** Smallest allowed recall on the cats of every group that has cats. */
  minSliceRecall: number;
  /** Use at most this many images (the first ones), to keep checks cheap. */
  maxImages: number;
}

export const DEFAULT_BEHAVIOUR_LIMITS: BehaviourLimits = {
  maxMeanDelta: 0.05,
  maxFlipRate: 0.05,
  brightnessFactors: [0.85, 1.15],
  minSliceRecall: 0.6,
  maxImages: 512,
};

/** Mirror every image left-right. */
export const flipHorizontal = mirrorSquares;

/** Multiply every byte by `factor`, rounding and clamping to 0..255. */
export function scaleBrightness(pixels: Uint8Array, factor: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(pixels[i] * factor)));
  return out;
}

function stability(name: string, base: ArrayLike<number>, moved: ArrayLike<number>, threshold: number, limits: BehaviourLimits): BehaviourCheck[] {
  const n = base.length;
  let sum = 0;
  let flips = 0;
  for (let i = 0; i < n; i++) {
    sum += Math.abs(base[i] - moved[i]);
    if (base[i] >= threshold !== moved[i] >= threshold) flips++;
  }
  const meanDelta = n ? sum / n : 0;
  const flipRate = n ? flips / n : 0;
  return [
    {
      name: `${name}: mean |delta p|`,
      passed: meanDelta <= limits.maxMeanDelta,
      value: meanDelta,
      limit: limits.maxMeanDelta,
      detail: `mean |delta p| ${meanDelta.toFixed(4)} over ${n} images (limit ${limits.maxMeanDelta})`,
    },
    {
      name: `${name}: decision flip rate`,
      passed: flipRate <= limits.maxFlipRate,
      value: flipRate,
      limit: limits.maxFlipRate,
      detail: `${flips} of ${n} decisions change at threshold ${threshold.toFixed(3)} (rate ${flipRate.toFixed(4)}, limit ${limits.maxFlipRate})`,
    },
  ];
}

/**
 * Behavioural checks of a model: its prediction should not move under a horizontal flip or a small brightness
 * change, and every group with cats should keep a minimum recall.
 */
export async function behaviourChecks(
  input: BehaviourInput,
  predict: PredictPixels,
  threshold: number,
  limits: Partial<BehaviourLimits> = {},
): Promise<BehaviourReport> {
  const lim = { ...DEFAULT_BEHAVIOUR_LIMITS, ...limits };
  const n = Math.min(input.n, lim.maxImages);
  const { size } = input;
  const expected = input.n * size * size * 3;
  if (input.pixels.length !== expected) throw new Error(`behaviour checks: pixels hold ${input.pixels.length} bytes, expected ${expected} for ${input.n} images of ${size}x${size}x3`);
  const pixels = input.pixels.subarray(0, n * size * size * 3);
  const run = async (px: Uint8Array, what: string) => {
    const p = await predict(px, n, size);
    if (p.length !== n) throw new Error(`behaviour checks: predict returned ${p.length} values for ${n} images (${what})`);
    return p;
  };
  const base = await run(pixels, 'original');
  const checks: BehaviourCheck[] = [];
  checks.push(...stability('horizontal flip', base, await run(flipHorizontal(pixels, n, size), 'flipped'), threshold, lim));
  for (const f of lim.brightnessFactors) {
    checks.push(...stability(`brightness x${f}`, base, await run(scaleBrightness(pixels, f), `brightness ${f}`), threshold, lim));
  }
  const slices = sliceMetrics({ labels: input.labels.subarray(0, n), probs: base, groups: input.groups.slice(0, n) }, threshold);
  for (const s of slices) {
    if (s.recall === null) continue;
    checks.push({
      name: `recall on ${s.group}`,
      passed: s.recall >= lim.minSliceRecall,
      value: s.recall,
      limit: lim.minSliceRecall,
      detail: `recall ${s.recall.toFixed(3)} on ${s.positives} cats in group ${s.group} (minimum ${lim.minSliceRecall})`,
    });
  }
  return { passed: checks.every((c) => c.passed), checks };
}
