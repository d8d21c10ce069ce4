import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFeatureFeedback, featureRows, pullFeatureFeedback } from '../../src/feedback/feature-dataset.js';
import { featureHash } from '../../src/feedback/feature-record.js';
import { featureFeedbackKey, FEEDBACK_SCHEMA, type FeatureFeedbackRecord } from '../../src/feedback/types.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

const WANT = { backbone: 'coco-centernet', recipe: 1, imageSize: 256, views: ['plain', 'mirrored'] } as const;
let s3: TestS3;
let n = 0;

beforeAll(async () => {
  s3 = await startTestS3('feature-dataset');
});
afterAll(async () => {
  await s3?.stop();
});

/** A feature record as the server writes it; `seed` makes its numbers (and so its hash). */
async function put(seed: number, answer: 'cat' | 'not-cat', more: { client?: string; backbone?: string; recipe?: number; probability?: number; time?: string } = {}): Promise<FeatureFeedbackRecord> {
  const time = more.time ?? new Date(Date.UTC(2026, 11, 1, 10, 0, n)).toISOString();
  const id = `20261201T1000${String(n).padStart(2, '0')}000Z-${String(n++).padStart(16, '0')}`;
  const plain = Array.from({ length: 4 }, (_, i) => seed + i / 10);
  const record: FeatureFeedbackRecord = {
    schema: FEEDBACK_SCHEMA,
    kind: 'features',
    id,
    time,
    prediction: { decision: 'cat', probability: more.probability ?? 0.6, modelVersion: 1 },
    answer,
    servedVersion: 1,
    consent: true,
    clientHash: more.client ?? 'client-a',
    recordKey: featureFeedbackKey('feedback/', id, time),
    features: {
      backbone: more.backbone ?? WANT.backbone,
      recipe: more.recipe ?? WANT.recipe,
      imageSize: 256,
      views: ['plain', 'mirrored'],
      values: [plain, plain.map((v) => -v)],
      hash: featureHash(plain),
    },
  };
  await s3.store.putObject(s3.bucket, record.recordKey, JSON.stringify(record), 'application/json');
  return record;
}

describe('feature feedback for training', () => {
  it('refuses other backbones and recipes with a count, leaves out conflicting answers, flags confident overturns, caps each client', async () => {
    const a = await put(1, 'cat');
    await put(2, 'not-cat', { backbone: 'another-backbone' });
    await put(3, 'cat', { recipe: 0 });
    await put(4, 'cat');
    await put(4, 'not-cat'); // the same photo's features answered the other way
    const suspicious = await put(5, 'not-cat', { probability: 0.99 });
    for (let i = 0; i < 5; i++) await put(10 + i, 'cat', { client: 'flood' });
    const pull = await pullFeatureFeedback(s3.store, s3.bucket, WANT, { perClientCap: 3 });
    expect(pull.refused).toEqual({ count: 2, reasons: { 'backbone another-backbone': 1, 'feature recipe v0': 1 } });
    expect(pull.excluded.filter((x) => x.reason.startsWith('inconsistent'))).toHaveLength(2);
    expect(pull.suspicious.map((x) => x.id)).toEqual([suspicious.id]);
    expect(pull.capped).toEqual({ cap: 3, dropped: 2, clients: 1 });
    expect(pull.used.map((u) => u.record.id)).toContain(a.id);
    expect(pull.used).toHaveLength(2 + 3); // a, the suspicious one, 3 of the flood
    expect(describeFeatureFeedback(pull)).toMatch(/5 used, 2 excluded, 1 suspicious, 2 refused \(1 backbone another-backbone, 1 feature recipe v0\), 2 over the per-client cap of 3/);

    const rows = featureRows(pull.used, WANT.views);
    expect(rows.views.map((v) => [v.n, v.dim])).toEqual([[5, 4], [5, 4]]);
    expect(Array.from(rows.views[1].data.subarray(0, 4))).toEqual(Array.from(rows.views[0].data.subarray(0, 4)).map((v) => -v));
    // Rows in the order of the feature hashes (not of arrival), each with its own label.
    const byHash = [...pull.used].sort((x, y) => (x.record.features.hash < y.record.features.hash ? -1 : 1));
    expect(Array.from(rows.labels)).toEqual(byHash.map((u) => (u.record.answer === 'cat' ? 1 : 0)));
    expect(Array.from(rows.views[0].data.subarray(0, 4))).toEqual(Array.from(Float32Array.from(byHash[0].record.features.values[0])));
    expect(featureRows([...pull.used].reverse(), WANT.views)).toEqual(rows);

    // Only what arrived since a time (a fine-tune takes the feedback since its champion's training run).
    const later = await pullFeatureFeedback(s3.store, s3.bucket, WANT, { since: new Date(Date.UTC(2026, 11, 1, 10, 0, 6)).toISOString() });
    expect(later.read).toBe(n - 6);
  });
});
