import { COCO_CENTERNET_BACKBONE } from './backbone.js';
import type { BackboneSpec } from './backbone-spec.js';
import { IMAGENET_MOBILENET_BACKBONE } from './imagenet-mobilenet.js';

export type { BackboneSpec, FeatureNet } from './backbone-spec.js';

/** Every frozen backbone a model can be built on, by id. */
export const BACKBONES: readonly BackboneSpec[] = [IMAGENET_MOBILENET_BACKBONE, COCO_CENTERNET_BACKBONE];

/**
 * The backbone photos get by default. Chosen on source-held-out numbers (README, "Choosing the backbone"): the
 * ImageNet classifier's features tell cats from dogs far better than the COCO detector's.
 */
export const DEFAULT_PHOTO_BACKBONE = IMAGENET_MOBILENET_BACKBONE.id;

export function backboneSpec(id: string): BackboneSpec {
  const found = BACKBONES.find((b) => b.id === id);
  if (!found) throw new Error(`unknown backbone "${id}" (known: ${BACKBONES.map((b) => b.id).join(', ')})`);
  return found;
}
