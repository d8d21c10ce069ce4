import type { ModelCard } from './types.js';

/** The command that trains on real photos (folders cat/, dog/, selfie/, misc/), as the README gives it. */
export const TRAIN_ON_PHOTOS_COMMAND = 'areyouacat pipeline deploy --data path/to/photos';

/**
 * What a model was trained on, in words for the predict and registry pages: the data set, whether it is the
 * built-in synthetic set (drawings, not photos) and, for that one, that the model is a demonstration, with the
 * command that trains on real photos.
 */
export interface TrainingDataSummary {
  dataset: string | null;
  synthetic: boolean;
  /** One sentence: what the model learned from. */
  text: string;
  /** For a model trained on the synthetic set: that it is a demonstration, and what to do instead; else null. */
  demonstration: string | null;
  /** The command that trains on real photos (shown with `demonstration`). */
  command: string | null;
}

export function isSyntheticDataset(card: Pick<ModelCard, 'dataset' | 'details'>): boolean {
  const name = card.dataset.name ?? card.details?.training?.dataset ?? '';
  const sources = card.details?.training?.sources ?? [];
  return /^synthetic\b/.test(name) || sources.some((s) => /built-in synthetic set/.test(s.name));
}

/**
 * `model.backbone`: the backbone the model files hold (the site knows it from model.json), when the card does not
 * record it (a version registered without a training run); unknown and unrecorded, the sentence leaves it out.
 */
export function trainingDataSummary(card: Pick<ModelCard, 'dataset' | 'details'>, model: { backbone?: string | null } = {}): TrainingDataSummary {
  const dataset = card.dataset.name ?? card.details?.training?.dataset ?? null;
  const backbone = model.backbone !== undefined ? model.backbone : card.details ? (card.details.training?.backbone ?? null) : undefined;
  const how = backbone === undefined ? null : backbone ? `a head on the pretrained ${backbone} backbone` : 'a CNN trained from scratch';
  if (isSyntheticDataset(card)) {
    return {
      dataset,
      synthetic: true,
      text: `Trained on the built-in synthetic set${dataset ? ` (${dataset})` : ''}: drawn cats, dogs, faces and scenes made from a seed, not photos${how ? `; ${how}` : ''}.`,
      demonstration:
        'This model is a demonstration of the whole product, not a cat detector: it has never seen a real photo, so its answers on ' +
        'real photos mean little. Train on real photos (folders cat/, dog/, selfie/ and misc/) to get a model worth asking.',
      command: TRAIN_ON_PHOTOS_COMMAND,
    };
  }
  const sources = (card.details?.training?.sources ?? []).map((s) => s.name);
  const from = sources.length ? `, from ${sources.join(', ')}` : '';
  return { dataset, synthetic: false, text: `Trained on the photos of data set ${dataset ?? '(unnamed)'}${from}${how ? `; ${how}` : ''}.`, demonstration: null, command: null };
}
