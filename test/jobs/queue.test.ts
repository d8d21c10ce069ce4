import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeaturesWithJobs } from '../../src/jobs/feature-jobs.js';
import { FEATURE_SHARD_KIND, type FeatureShardInput } from '../../src/jobs/feature-shard.js';
import { imageFeatureKey } from '../../src/jobs/feature-store.js';
import { JobFailedError } from '../../src/jobs/job.js';
import { LocalExecutor } from '../../src/jobs/local-executor.js';
import { DEFAULT_QUEUE_NAME } from '../../src/jobs/queue-connection.js';
import { QueueExecutor } from '../../src/jobs/queue-executor.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import type { PreparedSplit } from '../../src/data/types.js';
import { freePort, hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { s3Env, startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { photoFolder, runCli, startWorker, stopWorker, type WorkerProcess } from './fixtures.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

const SIZE = 64;

describe.skipIf(!hasRedisServer)('jobs on a BullMQ queue and on the local pool', () => {
  let tmp: string;
  let photos: string;
  let split: PreparedSplit;
  let expected: Float32Array;
  let redis: TestRedis;
  let s3: TestS3;
  let workerEnv: NodeJS.ProcessEnv;
  const workers: WorkerProcess[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-jobs-'));
    photos = path.join(tmp, 'photos');
    split = await photoFolder(photos, 24, SIZE);
    expected = (await imageFeatures(split, { backbone: 'coco-centernet', batchSize: 8, photos: ({ path: p }) => fs.readFile(path.join(photos, p)) })).data;
    redis = await startTestRedis();
    s3 = await startTestS3('jobs');
    // Workers get a data folder of their own: they exchange nothing with the coordinator through a disk.
    workerEnv = { ...process.env, ...s3Env(s3), AREYOUACAT_HOME: path.join(tmp, 'worker-home') };
    Object.assign(process.env, s3Env(s3), { AREYOUACAT_HOME: path.join(tmp, 'coordinator-home') });
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) await stopWorker(w);
    await redis?.stop(true);
    await s3?.stop();
    process.env = savedEnv;
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const views = () => [{ images: split, flip: false }];
  const shardJob = (over: Partial<FeatureShardInput> = {}): { kind: string; input: FeatureShardInput } => ({
    kind: FEATURE_SHARD_KIND,
    input: {
      source: photos, items: split.paths.slice(0, 4).map((p, i) => ({ path: p, group: split.groups[i], source: '' })),
      keys: [0, 1, 2, 3].map((i) => imageFeatureKey('coco-centernet', split.pixels.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3), SIZE, false)),
      backbone: 'coco-centernet', size: SIZE, flip: false, cache: 'none', ...over,
    },
  });

  it('computes the same features on the local pool and on two queue workers (through the S3 cache)', async () => {
    const local = new LocalExecutor({ workers: 2 });
    let onLocal: Float32Array;
    try {
      [{ data: onLocal }] = await computeFeaturesWithJobs({ backbone: 'coco-centernet', views: views(), sourceSpec: photos, executor: local, shardSize: 8, batchSize: 8 });
    } finally {
      await local.close();
    }
    expect(Array.from(onLocal)).toEqual(Array.from(expected));

    workers.push(await startWorker(redis.url, workerEnv), await startWorker(redis.url, workerEnv));
    const queue = await QueueExecutor.open({ url: redis.url });
    const progress: number[] = [];
    try {
      const [{ data: onQueue }] = await computeFeaturesWithJobs({
        backbone: 'coco-centernet', views: views(), sourceSpec: photos, executor: queue, shardSize: 8, batchSize: 8, onProgress: (done) => progress.push(done),
      });
      expect(Array.from(onQueue)).toEqual(Array.from(expected));
      expect(progress.at(-1)).toBe(3);
      // The workers wrote every image's features under the shared content-addressed prefix...
      expect((await s3.store.listKeys(s3.bucket, 'cache/features/')).length).toBe(24);
      // ...so a second run finds them there and sends no job.
      const again: number[] = [];
      const [{ data: cached }] = await computeFeaturesWithJobs({ backbone: 'coco-centernet', views: views(), sourceSpec: photos, executor: queue, shardSize: 8, onProgress: (d) => again.push(d) });
      expect(again).toEqual([]);
      expect(Array.from(cached)).toEqual(Array.from(expected));
    } finally {
      await queue.close();
    }
    const status = runCli(['queue', 'status', '--queue', redis.url, '--json'], workerEnv);
    expect(await status.exited).toBe(0);
    const s = JSON.parse(status.output().slice(status.output().indexOf('{')));
    expect(s.counts.completed).toBeGreaterThanOrEqual(3);
    expect(s.workers.length).toBe(2);
  }, 300_000);

  it('fails a job with a corrupt image once, with its reason (queue and local pool)', async () => {
    const bad = path.join(tmp, 'bad');
    await fs.cp(photos, bad, { recursive: true });
    await fs.writeFile(path.join(bad, split.paths[2]), Buffer.from('\x89PNG\r\n\x1a\n this is not a png at all'));
    const queue = await QueueExecutor.open({ url: redis.url });
    let err: unknown;
    try {
      err = await queue.run([shardJob({ source: bad })]).catch((e: unknown) => e);
    } finally {
      await queue.close();
    }
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as JobFailedError).reason).toMatch(new RegExp(`cannot prepare ${split.paths[2]}`));
    const q = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const job = await Job.fromId(q, (err as JobFailedError).jobId);
      expect(job?.attemptsMade).toBe(1);
      expect(await job?.getState()).toBe('failed');
    } finally {
      await q.close();
    }
    const local = new LocalExecutor({ workers: 1 });
    try {
      await expect(local.run([shardJob({ size: 5 })])).rejects.toThrow(/size must be an integer from 16 to 1024, got 5/);
    } finally {
      await local.close();
    }
  }, 120_000);

  it('a worker of another code version refuses the job with a message', async () => {
    const queue = await QueueExecutor.open({ url: redis.url, codeVersion: 'deadbeefdeadbeef' });
    try {
      const err = (await queue.run([shardJob()]).catch((e: unknown) => e)) as JobFailedError;
      expect(err).toBeInstanceOf(JobFailedError);
      expect(err.reason).toMatch(/made by code version deadbeefdeadbeef, this worker runs [0-9a-f]{16}/);
    } finally {
      await queue.close();
    }
  }, 120_000);

  it('another worker takes over the job of a worker killed mid-job, with the same result', async () => {
    for (const w of workers.splice(0)) await stopWorker(w);
    const big = path.join(tmp, 'big');
    const bigSplit = await photoFolder(big, 40, 256, 2);
    const want = (await imageFeatures(bigSplit, { backbone: 'coco-centernet', batchSize: 4, photos: ({ path: p }) => fs.readFile(path.join(big, p)) })).data;
    const first = await startWorker(redis.url, { ...workerEnv, AREYOUACAT_S3_BUCKET: '' });
    workers.push(first);
    const events = new QueueEvents(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    await events.waitUntilReady();
    let killed = false;
    events.on('progress', () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
      void startWorker(redis.url, { ...workerEnv, AREYOUACAT_S3_BUCKET: '' }).then((w) => workers.push(w));
    });
    const queue = await QueueExecutor.open({ url: redis.url });
    try {
      // No S3 bucket for these workers: nothing cached, the second worker recomputes the whole shard.
      process.env.AREYOUACAT_S3_BUCKET = '';
      const [{ data }] = await computeFeaturesWithJobs({ backbone: 'coco-centernet', views: [{ images: bigSplit, flip: false }], sourceSpec: big, executor: queue, shardSize: 40, batchSize: 4 });
      expect(killed).toBe(true);
      expect(await first.exited).toBe('SIGKILL');
      expect(Array.from(data)).toEqual(Array.from(want));
      expect(workers.at(-1)!.output()).toMatch(/job backbone-features-\S+ \(backbone-features\) done/);
    } finally {
      await queue.close();
      await events.close();
    }
  }, 300_000);

  it('stops with an error naming the queue and the unfinished jobs when Redis goes away during a run', async () => {
    for (const w of workers.splice(0)) await stopWorker(w);
    const own = await startTestRedis();
    const queue = await QueueExecutor.open({ url: own.url, lostRedisMs: 3000 });
    const watch = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: own.port } });
    watch.on('error', () => {});
    try {
      const run = queue.run([shardJob(), shardJob()]).then(() => new Error('the run finished'), (e: Error) => e);
      while ((await watch.getWaitingCount()) < 2) await new Promise((r) => setTimeout(r, 50));
      await watch.close();
      const t0 = Date.now();
      await own.stop(true);
      const err = await run;
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(new RegExp(`lost the job queue at redis://127.0.0.1:${own.port}`));
      expect(err.message).toMatch(/unfinished jobs: backbone-features-\w+-0, backbone-features-\w+-1/);
    } finally {
      await queue.close();
      await own.stop(true);
    }
  }, 120_000);

  it('CLI: an unreachable Redis is a clear error naming the URL, non-zero exit, nothing written', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const home = path.join(tmp, 'unreachable-home');
    const t0 = Date.now();
    const train = runCli(['pipeline', 'train', '--data', photos, '--queue', url], { ...workerEnv, AREYOUACAT_HOME: home });
    expect(await train.exited).toBe(1);
    expect(train.output()).toContain(`error: cannot reach the job queue at ${url}`);
    const worker = runCli(['worker', '--queue', url], { ...workerEnv, AREYOUACAT_HOME: home });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain(`error: cannot reach the job queue at ${url}`);
    expect(Date.now() - t0).toBeLessThan(60_000);
    await expect(fs.stat(home)).rejects.toThrow();
  }, 120_000);
});
