import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/jobs/local-executor.js';
import { DEFAULT_QUEUE_NAME } from '../../src/jobs/queue-connection.js';
import { QueueExecutor } from '../../src/jobs/queue-executor.js';
import { runDeployPipeline, type DeployPipelineOptions } from '../../src/pipelines/deploy-pipeline.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { startWorker, stopWorker, type WorkerProcess } from './fixtures.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

// The pipeline hook: the same small backbone deploy with its features on the local pool and on two queue
// workers (one killed during the feature phase) promotes the same model with the same test metrics.
describe.skipIf(!hasRedisServer)('deploy with backbone features on the queue', () => {
  let tmp: string;
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  const savedHome = process.env.AREYOUACAT_HOME;
  const savedBucket = process.env.AREYOUACAT_S3_BUCKET;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-deploy-queue-'));
    redis = await startTestRedis();
    delete process.env.AREYOUACAT_S3_BUCKET;
  });
  afterAll(async () => {
    for (const w of workers) await stopWorker(w);
    await redis?.stop(true);
    process.env.AREYOUACAT_HOME = savedHome;
    if (savedBucket !== undefined) process.env.AREYOUACAT_S3_BUCKET = savedBucket;
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const opts: DeployPipelineOptions = {
    data: 'synthetic:seed=5,n=96',
    backbone: 'coco-centernet',
    size: 64,
    epochs: 3,
    allowChecks: ['property-drift'],
    policy: { minPrecision: 0, minRecall: 0 },
    log: () => {},
  };

  it('promotes the same model with the same test metrics, with a worker killed mid-job', async () => {
    process.env.AREYOUACAT_HOME = path.join(tmp, 'local');
    const pool = new LocalExecutor({ workers: 2 });
    const local = await runDeployPipeline({ ...opts, executor: pool }).finally(() => pool.close());

    process.env.AREYOUACAT_HOME = path.join(tmp, 'queue');
    const env = { ...process.env, AREYOUACAT_HOME: path.join(tmp, 'workers') };
    const first = await startWorker(redis.url, env);
    workers.push(first, await startWorker(redis.url, env));
    const events = new QueueEvents(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    await events.waitUntilReady();
    let killed = false;
    events.on('active', () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    });
    const queue = await QueueExecutor.open({ url: redis.url });
    const lines: string[] = [];
    const onQueue = await runDeployPipeline({ ...opts, executor: queue, log: (l) => lines.push(l) }).finally(async () => {
      await queue.close();
      await events.close();
    });
    expect(killed).toBe(true);
    expect(await first.exited).toBe('SIGKILL');
    expect(lines.join('\n')).toMatch(/features: \d+ images in \d+ jobs on queue redis:/);
    expect(onQueue.decision?.action).toBe('promote');
    expect(typeof local.version.card.metrics.precision).toBe('number');
    expect(Object.keys(local.training.run.metrics).length).toBeGreaterThan(3);
    expect(onQueue.version.card.metrics).toEqual(local.version.card.metrics);
    expect(onQueue.training.run.metrics).toEqual(local.training.run.metrics);
  }, 600_000);
});
