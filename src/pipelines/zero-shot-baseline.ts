import type { PreparedSplit } from '../data/types.js';
import { evaluateBaseline } from '../evaluation/report.js';
import type { BaselineEvaluation, ThresholdStrategy } from '../evaluation/types.js';
import { imageFeatures } from '../model/backbone-features.js';
import { IMAGENET_BACKBONE_ID, ZERO_SHOT_BASELINE, zeroShotFromFeatures } from '../model/imagenet-mobilenet.js';

/** P(cat) of the ImageNet classifier alone on a split: its cat classes, mean over the photo and its mirror image. */
async function zeroShotOf(split: PreparedSplit, cacheDir: string): Promise<Float32Array> {
  const opts = { backbone: IMAGENET_BACKBONE_ID, cacheDir };
  const [plain, mirrored] = [zeroShotFromFeatures(await imageFeatures(split, opts)), zeroShotFromFeatures(await imageFeatures(split, { ...opts, flip: true }))];
  return plain.map((p, i) => (p + mirrored[i]) / 2);
}

/**
 * The zero-shot baseline of a model on the ImageNet backbone, on the same validation and test photos, read from
 * the features the model's own evaluation cached (no further pass through the network). Null for other models:
 * their features are another network's.
 */
export async function zeroShotBaseline(backbone: string | null | undefined, val: PreparedSplit, test: PreparedSplit, strategy: ThresholdStrategy, cacheDir: string): Promise<BaselineEvaluation | null> {
  if (backbone !== IMAGENET_BACKBONE_ID) return null;
  const scored = async (split: PreparedSplit) => ({ labels: split.labels, probs: await zeroShotOf(split, cacheDir), groups: split.groups, paths: split.paths });
  return evaluateBaseline(ZERO_SHOT_BASELINE.name, ZERO_SHOT_BASELINE.description, await scored(val), await scored(test), strategy);
}
