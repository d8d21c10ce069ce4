import { createHash } from 'node:crypto';
import type { PhotoFeatureViews } from '../model/photo-features.js';
import type { FeatureFeedbackRecord } from './types.js';

/**
 * Hash of a feature row for inconsistency detection: the numbers rounded to 4 significant decimals first, so the
 * same photo gives the same hash on every worker thread and backend (their last float bits may differ).
 */
export function featureHash(values: ArrayLike<number>): string {
  const h = createHash('sha256');
  const rounded = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) rounded[i] = Number(values[i].toPrecision(4));
  h.update(new Uint8Array(rounded.buffer));
  return h.digest('hex');
}

/**
 * Who sent an answer, without keeping who it was: a hash of the client's address (as the rate limiter sees it,
 * so behind trusted proxies the forwarded one) salted with the deployment's secret (`feedbackClientSalt`), so the
 * hash cannot be reversed by trying every address. Used only to cap how much of a fine-tune one client can make up.
 */
export function clientHash(address: string, salt: string): string {
  return createHash('sha256').update(`areyouacat-feedback-client:${salt}:${address}`).digest('hex').slice(0, 16);
}

/**
 * The `features` part of a features-only feedback record, from a photo's features in every view: the numbers, the
 * backbone identity, recipe, size and view names they were made with, and the hash of the plain view. Serving (an
 * answer kept without its photo) and the fine-tune (a consented photo turned into numbers) both build it here, so the
 * two kinds of record match and the same photo gives the same hash either way.
 */
export function featureRecordFields(f: PhotoFeatureViews): FeatureFeedbackRecord['features'] {
  const plain = f.views[f.viewNames.indexOf('plain')] ?? f.views[0];
  return { backbone: f.backbone, recipe: f.recipe, imageSize: f.imageSize, views: [...f.viewNames], values: f.views.map((v) => Array.from(v)), hash: featureHash(plain) };
}
