import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featureHash } from '../../src/feedback/feature-record.js';
import { featureFeedbackKey, FEEDBACK_SCHEMA, type FeatureFeedbackRecord } from '../../src/feedback/types.js';
import { BACKBONE_FEATURES, BACKBONE_ID } from '../../src/model/backbone.js';
import { FEATURE_RECIPE_VERSION } from '../../src/model/photo-features.js';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { getRun, readEpochs } from '../../src/tracking/runs.js';
import { startTestS3, type TestS3, s3Env } from '../helpers/s3-server.js';

/**
 * `pipeline deploy --include-feedback` with answers kept as features only: the records of the same backbone,
 * recipe and size become training rows of the head (the run says how many), the others are refused and counted.
 * The plumbing on a small synthetic set through the backbone at 64 px (the numbers in the records are made up).
 */
let s3: TestS3 | undefined;
const savedEnv = { ...process.env };
afterAll(async () => {
  await s3?.stop();
  process.env = savedEnv;
});

function record(i: number, answer: 'cat' | 'not-cat', identity: { recipe?: number; imageSize?: number } = {}): FeatureFeedbackRecord {
  const time = new Date(Date.UTC(2026, 11, 1, 9, 0, i)).toISOString();
  const id = `20261201T0900${String(i).padStart(2, '0')}000Z-${String(i).padStart(16, '0')}`;
  const plain = Array.from({ length: BACKBONE_FEATURES }, (_, k) => Math.sin(i * 7 + k) + (answer === 'cat' ? 1 : 0));
  return {
    schema: FEEDBACK_SCHEMA, kind: 'features', id, time, answer, servedVersion: 1, consent: true, clientHash: `c${i % 3}`,
    prediction: { decision: 'cat', probability: 0.5, modelVersion: 1 },
    recordKey: featureFeedbackKey('feedback/', id, time),
    features: {
      backbone: BACKBONE_ID, recipe: identity.recipe ?? FEATURE_RECIPE_VERSION, imageSize: identity.imageSize ?? 64,
      views: ['plain', 'mirrored'], values: [plain, plain.map((v) => v * 0.9)], hash: featureHash(plain),
    },
  };
}

describe('deploy --include-feedback with feature records', () => {
  it('trains the head on the matching records and refuses the others with a count', async () => {
    process.env.AREYOUACAT_HOME = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-feature-deploy-'));
    s3 = await startTestS3('feature-deploy');
    Object.assign(process.env, s3Env(s3));
    const records = [
      ...Array.from({ length: 6 }, (_, i) => record(i, i % 2 ? 'cat' : 'not-cat')),
      record(10, 'cat', { recipe: FEATURE_RECIPE_VERSION + 1 }),
      record(11, 'cat', { imageSize: 256 }),
    ];
    for (const r of records) await s3.store.putObject(s3.bucket, r.recordKey, JSON.stringify(r), 'application/json');

    const r = await runDeployPipeline({
      data: 'synthetic:seed=5,n=80', backbone: BACKBONE_ID, size: 64, epochs: 2, includeFeedback: true,
      allowChecks: ['property-drift'], policy: { minPrecision: 0, minRecall: 0 }, workers: 1, log: () => {},
    });
    const ff = r.training.featureFeedback!;
    expect(ff.used).toHaveLength(6);
    expect(ff.refused).toEqual({ count: 2, reasons: { [`feature recipe v${FEATURE_RECIPE_VERSION + 1}`]: 1, 'image size 256': 1 } });
    const run = await getRun(r.training.run.runId);
    expect(run?.tags.featureFeedback).toMatch(/^6 used, 0 excluded, 0 suspicious, 2 refused/);
    // The head trained on the training split's images and the 6 feedback rows (images per second x seconds).
    const trainImages = Object.values(r.training.dataset.splits.train).reduce((a, n) => a + n, 0);
    const epochs = await readEpochs(r.training.run.runId);
    expect(epochs.length).toBe(2);
    for (const e of epochs) expect(Math.round(e.metrics.images_per_second * e.metrics.seconds)).toBe(trainImages + 6);
  }, 600_000);
});
