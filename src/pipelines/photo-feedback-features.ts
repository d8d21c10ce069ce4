import { photoFeatureViews } from '../model/photo-features.js';
import { featureRecordFields } from '../feedback/feature-record.js';
import type { FeedbackFlag } from '../feedback/dataset.js';
import { DEFAULT_FEEDBACK_PREFIX, FEEDBACK_SCHEMA, type FeatureFeedbackRecord, type FeedbackRecord } from '../feedback/types.js';
import type { S3Store } from '../storage/s3-client.js';
import type { Log } from '../progress/index.js';

export interface PhotoFeedbackFeatures {
  /** The consented photos' answers as feature records (the photo's features in every training view). */
  records: FeatureFeedbackRecord[];
  /** Photo items that could not be used (unreadable record or photo, a photo that no longer decodes). */
  excluded: FeedbackFlag[];
}

/**
 * The feedback photos received since `since`, as feature records of the backbone the promoted head was trained on:
 * each photo's features computed as serving computes them for a features-only answer (`photoFeatureViews`), so a
 * fine-tune learns from both kinds of answer and checks them as one set (the same photo answered both ways, the
 * per-client cap). The photos are read from S3 and dropped once their numbers are computed.
 */
export async function photoFeedbackAsFeatures(
  store: S3Store,
  bucket: string,
  options: { since: string; backbone: string; imageSize: number; prefix?: string; log?: Log },
): Promise<PhotoFeedbackFeatures> {
  const prefix = options.prefix ?? DEFAULT_FEEDBACK_PREFIX;
  const keys = (await store.listKeys(bucket, `${prefix}records/`)).map((o) => o.key).filter((k) => k.endsWith('.json')).sort();
  const records: FeatureFeedbackRecord[] = [];
  const excluded: FeedbackFlag[] = [];
  for (const key of keys) {
    let rec: FeedbackRecord;
    try {
      rec = JSON.parse((await store.getObject(bucket, key)).toString('utf8')) as FeedbackRecord;
    } catch (err) {
      excluded.push({ id: key, reason: `unreadable record: ${(err as Error).message}` });
      continue;
    }
    if (!(rec.time >= options.since)) continue;
    try {
      const f = await photoFeatureViews(await store.getObject(bucket, rec.photoKey), { backbone: options.backbone, imageSize: options.imageSize });
      records.push({
        schema: FEEDBACK_SCHEMA,
        kind: 'features',
        id: rec.id,
        time: rec.time,
        prediction: rec.prediction,
        answer: rec.answer,
        servedVersion: rec.servedVersion,
        consent: rec.consent,
        ...(rec.clientHash ? { clientHash: rec.clientHash } : {}),
        recordKey: rec.recordKey,
        features: featureRecordFields(f),
      });
    } catch (err) {
      excluded.push({ id: rec.id, reason: `photo unusable: ${(err as Error).message}` });
    }
  }
  if (records.length || excluded.length) options.log?.(`finetune: ${records.length} feedback photos since ${options.since} as features${excluded.length ? `, ${excluded.length} unusable` : ''}`);
  return { records, excluded };
}
