import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import { featureHash } from '../../src/feedback/feature-record.js';
import { featureFeedbackKey, FEEDBACK_SCHEMA, type FeatureFeedbackRecord, type FeedbackRecord } from '../../src/feedback/types.js';
import { BACKBONE_ID } from '../../src/model/backbone.js';
import { photoFeatureViews } from '../../src/model/photo-features.js';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { runFinetunePipeline } from '../../src/pipelines/finetune-pipeline.js';
import { startTestS3, type TestS3, s3Env } from '../helpers/s3-server.js';

/**
 * `pipeline finetune` learns from both kinds of answer: consented feedback photos (their features computed for the
 * fine-tune) and features-only answers, checked as one set, so the same photo answered both ways is left out.
 */
let s3: TestS3 | undefined;
const savedEnv = { ...process.env };
afterAll(async () => {
  await s3?.stop();
  process.env = savedEnv;
});

async function photo(seed: string): Promise<Buffer> {
  const random = seedrandom(seed);
  const raw = Buffer.alloc(96 * 72 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(random() * 256);
  return sharp(raw, { raw: { width: 96, height: 72, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

describe('finetune with feedback photos and features-only answers', () => {
  it('uses the consented photos as features and leaves out a photo answered both ways', async () => {
    process.env.AREYOUACAT_HOME = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-finetune-photos-'));
    s3 = await startTestS3('finetune-photos');
    Object.assign(process.env, s3Env(s3));
    const deployed = await runDeployPipeline({
      data: 'synthetic:seed=5,n=80', backbone: BACKBONE_ID, size: 64, epochs: 2,
      allowChecks: ['property-drift'], policy: { minPrecision: 0, minRecall: 0 }, workers: 1, log: () => {},
    });
    expect(deployed.decision?.action).toBe('promote');

    const time = (i: number) => new Date(Date.now() + i * 1000).toISOString();
    const photoItem = async (i: number, answer: 'cat' | 'not-cat', bytes: Buffer) => {
      const id = `photo-${i}`;
      const day = time(i).slice(0, 10);
      const rec: FeedbackRecord = {
        schema: FEEDBACK_SCHEMA, id, time: time(i), prediction: { decision: 'cat', probability: 0.6, modelVersion: 1 }, answer,
        servedVersion: 1, consent: true, clientHash: `client-${i}`, photoKey: `feedback/photos/${day}/${id}.jpg`,
        recordKey: `feedback/records/${day}/${id}.json`, image: { format: 'jpeg', bytes: bytes.length, width: 96, height: 72, properties: null },
      };
      await s3!.store.putObject(s3!.bucket, rec.photoKey, bytes, 'image/jpeg');
      await s3!.store.putObject(s3!.bucket, rec.recordKey, JSON.stringify(rec), 'application/json');
    };
    const twice = await photo('answered both ways');
    await photoItem(1, 'cat', await photo('a'));
    await photoItem(2, 'not-cat', await photo('b'));
    await photoItem(3, 'cat', twice);
    // The same photo as features only, with the other answer.
    const f = await photoFeatureViews(twice, { backbone: BACKBONE_ID, imageSize: 64 });
    const id = 'features-4';
    const rec: FeatureFeedbackRecord = {
      schema: FEEDBACK_SCHEMA, kind: 'features', id, time: time(4), answer: 'not-cat', servedVersion: 1, consent: true, clientHash: 'client-4',
      prediction: { decision: 'cat', probability: 0.6, modelVersion: 1 }, recordKey: featureFeedbackKey('feedback/', id, time(4)),
      features: { backbone: f.backbone, recipe: f.recipe, imageSize: f.imageSize, views: f.viewNames, values: f.views.map((v) => Array.from(v)), hash: featureHash(f.views[0]) },
    };
    await s3.store.putObject(s3.bucket, rec.recordKey, JSON.stringify(rec), 'application/json');

    const lines: string[] = [];
    const out = await runFinetunePipeline({ policy: { minPrecision: 0, minRecall: 0 }, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/3 feedback photos since .* as features/);
    expect(out.feedback.used.map((u) => u.id).sort()).toEqual(['photo-1', 'photo-2']);
    expect(out.feedback.excluded.filter((x) => /inconsistent/.test(x.reason)).map((x) => x.id).sort()).toEqual(['features-4', 'photo-3']);
    expect(out.summary).toMatch(/^fine-tuned from v1 on 2 feedback items$/);
  }, 600_000);
});
