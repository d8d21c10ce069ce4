import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict, sendFeedback } from '../../src/feedback/client.js';
import type { FeatureFeedbackRecord } from '../../src/feedback/types.js';
import { QueueExecutor } from '../../src/jobs/queue-executor.js';
import { engineFor } from '../../src/model/engine.js';
import { loadModel } from '../../src/model/io.js';
import { photoFeatureViews, photoWholeView } from '../../src/model/photo-features.js';
import { predictPhotoViews } from '../../src/model/predict.js';
import { IMAGENET_MOBILENET_V1 } from '../../src/model-files/index.js';
import { evaluateLabelledSource } from '../../src/pipelines/evaluate-folder.js';
import { runInferencePipeline } from '../../src/pipelines/infer-pipeline.js';
import { localJobExecutor } from '../../src/pipelines/job-kinds.js';
import { readPromoted } from '../../src/registry/registry.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { rocAuc } from '../../src/stats/roc-auc.js';
import { paths } from '../../src/storage/paths.js';
import { HOME_AND_S3_ENV, saveEnv } from '../helpers/env.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { startWorker, stopWorker, type WorkerProcess } from '../jobs/fixtures.js';
import { catsV1Dir } from '../model/fixtures.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { testServerOptions } from '../serve/helpers/server-fixture.js';

/**
 * Every place that computes ImageNet backbone features gives the numbers this process computes for the same photos:
 * the server's inference threads (/api/predict, /v2 and the features kept for feedback), batch inference and folder
 * evaluation in this process, on a local pool and on a queue worker. Whatever engine the run uses: the default run
 * is on ONNX Runtime, and vitest.config.ts runs this file again with AREYOUACAT_ENGINE=tfjs.
 */
const MIRROR = path.resolve(process.env.AREYOUACAT_MODEL_MIRROR ?? '../shared/models');
const haveModel = await fs.access(path.join(MIRROR, IMAGENET_MOBILENET_V1.folder, 'model.json')).then(() => true, () => false);
const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveModel || !haveCats) console.warn(`ImageNet places test skipped: needs ${MIRROR} and cats-v1 at ${catsV1Dir()}`);
if (!hasRedisServer) console.warn(`${NO_REDIS_MESSAGE} (ImageNet places test: the queue part)`);

const ID = IMAGENET_MOBILENET_V1.id;
const SIZE = 128;
const MAX_PIXELS = 12_000_000;
/** Same engine, other batch compositions: float rounding only. */
const P_TOLERANCE = 1e-5;
const FEATURE_TOLERANCE = 1e-4;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe.skipIf(!haveModel || !haveCats)(`ImageNet features in every place (engine: ${process.env.AREYOUACAT_ENGINE || 'default'})`, () => {
  let tmp: string;
  let folder: string;
  let s3: TestS3;
  const restoreEnv = saveEnv(HOME_AND_S3_ENV);
  const photos: string[] = [];
  let bytes: Buffer[] = [];
  /** p(cat) of every photo, in this process. */
  let want: Float32Array;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-imagenet-places-'));
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home');
    delete process.env.AREYOUACAT_S3_BUCKET;
    s3 = await startTestS3('imagenet-places');
    await promoteTestModel(await registerTestModel({ tmp, imageSize: SIZE, backbone: ID, seed: 9 }));
    // Three cats and three dogs, in the <group>/<file> layout of batch inference and evaluation.
    folder = path.join(tmp, 'photos');
    for (const group of ['cat', 'dog']) {
      await fs.mkdir(path.join(folder, group), { recursive: true });
      for (const f of (await fs.readdir(path.join(catsV1Dir(), group))).sort().slice(5, 8)) {
        await fs.copyFile(path.join(catsV1Dir(), group, f), path.join(folder, group, f));
        photos.push(`${group}/${f}`);
      }
    }
    bytes = await Promise.all(photos.map((p) => fs.readFile(path.join(folder, p))));
    const views = await Promise.all(bytes.map((b) => photoWholeView(b, SIZE)));
    const model = await loadModel((await readPromoted())!.dir);
    want = await predictPhotoViews(model, views);
    model.dispose();
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1e-3); // distinct answers, so a mix-up shows
  }, 300_000);

  afterAll(async () => {
    await s3?.stop();
    restoreEnv();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('runs on the engine this run asked for', () => {
    expect(engineFor(ID)).toBe(process.env.AREYOUACAT_ENGINE === 'tfjs' ? 'tfjs-wasm' : 'onnxruntime');
  });

  it("serves the same p(cat) on /api/predict and /v2 from its inference thread, and keeps the same features for feedback", async () => {
    let srv: RunningServer | undefined;
    try {
      srv = await startServer(testServerOptions(s3, { workers: 1, log: () => undefined }));
      const answers = [];
      for (const b of bytes) answers.push(await predict(srv.url, { data: b, type: 'image/jpeg' }));
      expect(maxAbsDiff(answers.map((a) => a.probability), want)).toBeLessThan(P_TOLERANCE);

      const res = await fetch(`${srv.url}/v2/models/areyouacat/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'image', shape: [bytes.length], datatype: 'BYTES', data: bytes.map((b) => b.toString('base64')) }] }),
      });
      expect(res.status).toBe(200);
      const v2 = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
      expect(maxAbsDiff(v2.outputs.find((o) => o.name === 'p_cat')!.data, want)).toBeLessThan(P_TOLERANCE);

      const receipt = await sendFeedback(srv.url, { photo: { data: bytes[0], type: 'image/jpeg' }, answer: 'cat', prediction: answers[0], consent: true, store: 'features' });
      await srv.uploader.drain();
      const key = (await s3.store.listKeys(s3.bucket, 'feedback/features/')).map((o) => o.key).find((k) => k.includes(receipt.id))!;
      const record = JSON.parse((await s3.store.getObject(s3.bucket, key)).toString('utf8')) as FeatureFeedbackRecord;
      const here = await photoFeatureViews(bytes[0], { backbone: ID, imageSize: SIZE, maxPixels: MAX_PIXELS });
      expect(record.features).toMatchObject({ backbone: ID, imageSize: SIZE });
      expect(maxAbsDiff(record.features.values.flat(), here.views.flatMap((v) => Array.from(v)))).toBeLessThan(FEATURE_TOLERANCE);
    } finally {
      await srv?.close();
    }
  }, 300_000);

  it('infers and evaluates a folder with the same p(cat) in this process, on a local pool and on a queue worker', async () => {
    const labels = photos.map((p) => (p.startsWith('cat/') ? 1 : 0));
    const check = async (name: string, executor?: Parameters<typeof runInferencePipeline>[0]['executor']) => {
      // Every place computes the features itself: none from the cache an earlier one filled.
      await fs.rm(paths.featureCache(), { recursive: true, force: true });
      const r = await runInferencePipeline({ data: folder, out: path.join(tmp, `${name}.json`), executor, shardSize: 3 });
      expect(r.n, name).toBe(photos.length);
      const rows = JSON.parse(await fs.readFile(r.out, 'utf8')) as Array<{ path: string; probability: number }>;
      const byPath = new Map(rows.map((row) => [row.path, row.probability]));
      expect(maxAbsDiff(photos.map((p) => byPath.get(p) ?? NaN), want), name).toBeLessThan(P_TOLERANCE);
      await fs.rm(paths.featureCache(), { recursive: true, force: true });
      const e = await evaluateLabelledSource(folder, { executor, shardSize: 3 });
      expect(e.n, name).toBe(photos.length);
      expect(Math.abs(e.rocAuc! - rocAuc(labels, Array.from(want))!), name).toBeLessThan(1e-9);
    };
    await check('here');
    const pool = localJobExecutor({ workers: 2 });
    try {
      await check('pool', pool);
    } finally {
      await pool.close();
    }
    if (!hasRedisServer) return;
    let redis: TestRedis | undefined;
    let worker: WorkerProcess | undefined;
    let queue: QueueExecutor | undefined;
    try {
      redis = await startTestRedis();
      // A worker loads the backbone for seconds without yielding: a lock longer than that.
      worker = await startWorker(redis.url, { ...process.env }, ['--lock-duration', '30000']);
      queue = await QueueExecutor.open({ url: redis.url });
      await check('queue', queue);
      expect(worker.output()).toMatch(/\(predict-shard\) done/);
    } finally {
      await queue?.close();
      await stopWorker(worker);
      await redis?.stop(true);
    }
  }, 600_000);
});
