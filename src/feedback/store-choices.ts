import type { FeedbackStore } from './form.js';

/**
 * What a served model lets a user choose to keep with an answer, and the choice offered first. Only a model on a
 * frozen pretrained backbone can turn a photo into features that a later training can use instead of the photo;
 * a model trained from scratch (the CNN `npm start` trains on the synthetic set) can only learn from the photo, and
 * the server refuses `store=features` for it (422). The page offers only what the served model can take.
 */
export interface FeedbackStoreChoices {
  stores: FeedbackStore[];
  default: FeedbackStore;
  /** Why a choice is missing, in words for the page (null when both are offered). */
  note: string | null;
}

export function feedbackStoreChoices(model: { hasBackbone: boolean }): FeedbackStoreChoices {
  if (model.hasBackbone) return { stores: ['features', 'photo'], default: 'features', note: null };
  return {
    stores: ['photo'],
    default: 'photo',
    note:
      'The served model was trained from scratch, without a pretrained backbone, so it can learn only from the photo ' +
      'itself: "use my answer without keeping my photo" is not offered for it.',
  };
}
