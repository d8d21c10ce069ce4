import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_NAME } from '../../src/jobs/queue-connection.js';
import { QueueExecutor } from '../../src/jobs/queue-executor.js';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { evaluateLabelledSource } from '../../src/pipelines/evaluate-folder.js';
import { runInferencePipeline } from '../../src/pipelines/infer-pipeline.js';
import { runTrainingPipeline, type TrainPipelineOptions, type TrainPipelineResult } from '../../src/pipelines/train-pipeline.js';
import { readRemoteManifest, parseModelsUrl } from '../../src/registry/remote.js';
import { S3Store } from '../../src/storage/s3-client.js';
import { listRuns } from '../../src/tracking/runs.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { s3Env, startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { photoFolder, SMALL_TUNED_PIPELINE, startWorker, stopWorker, type WorkerProcess } from './fixtures.js';
import { HOME_AND_S3_ENV, saveEnv } from '../helpers/env.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

// Workers with a data folder of their own (empty, not the coordinator's) compute tuning trials and prediction
// shards: a trial gets its data by content (feature rows from the S3 feature cache, prepared pixels from the S3
// content store) and answers with its weights; a prediction shard downloads its model from the published registry.
// Only the coordinator writes the tracking store and the registry.
describe.skipIf(!hasRedisServer)('trials and prediction shards on workers without the coordinator data folder', () => {
  let tmp: string;
  let redis: TestRedis;
  let s3: TestS3;
  let queue: QueueExecutor;
  const workers: WorkerProcess[] = [];
  const workerHomes: string[] = [];
  const restoreEnv = saveEnv(HOME_AND_S3_ENV);
  let settings: Record<string, string>;

  const useS3 = (on: boolean) => {
    for (const [k, v] of Object.entries(settings)) {
      if (on) process.env[k] = v;
      else delete process.env[k];
    }
  };
  const home = (name: string) => {
    process.env.AREYOUACAT_HOME = path.join(tmp, name);
  };
  // The default lock: a worker's first trial sets up the backend for a few seconds without yielding.
  const addWorker = async () => {
    const dir = path.join(tmp, `worker-${workerHomes.length}`);
    workerHomes.push(dir);
    const w = await startWorker(redis.url, { ...process.env, ...settings, AREYOUACAT_HOME: dir }, ['--lock-duration', '30000']);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ayac-nofolder-'));
    redis = await startTestRedis();
    s3 = await startTestS3('nofolder');
    settings = s3Env(s3);
    await addWorker();
    await addWorker();
    queue = await QueueExecutor.open({ url: redis.url });
  }, 300_000);

  afterAll(async () => {
    await queue?.close();
    for (const w of workers) await stopWorker(w);
    await redis?.stop(true);
    await s3?.stop();
    restoreEnv();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  const pixelsOpts: TrainPipelineOptions = SMALL_TUNED_PIPELINE;
  const backboneOpts: TrainPipelineOptions = {
    ...pixelsOpts,
    data: 'synthetic:seed=6,n=64',
    backbone: 'coco-centernet',
    size: 64,
    hyperparameters: {},
    tune: { ...pixelsOpts.tune!, trials: 2 },
  };
  const trialsOf = (r: TrainPipelineResult) =>
    r.tuning!.outcome.trials.map((x) => ({ index: x.index, params: x.params, rungs: x.rungs.map((g) => ({ epochs: g.epochs, score: g.score })) }));
  const stints = (r: TrainPipelineResult) => trialsOf(r).flatMap((t) => t.rungs.map((g) => `${t.index}/${g.epochs}`)).sort();
  /** The child runs of the tuning run, by `trial/budget`. */
  const childRuns = async (r: TrainPipelineResult) => {
    const runs = (await listRuns()).runs.filter((x) => x.parentId === r.tuning!.parentRunId && x.tags.kind === 'trial');
    for (const x of runs) {
      expect(x.effectiveStatus, x.id).toBe('finished');
      expect(fs.existsSync(path.join(x.dir, 'artifacts', 'model', 'model.json')), x.id).toBe(true);
    }
    return runs.map((x) => `${x.tags.trial}/${x.tags.budget}`).sort();
  };
  const expectNoCoordinatorState = () => {
    for (const dir of workerHomes) for (const owned of ['runs', 'registry', 'datasets']) expect(fs.existsSync(path.join(dir, owned)), `${dir}/${owned}`).toBe(false);
  };

  /** Trial weights still under the job content store on S3 (the search is over: they should be gone). */
  const trialWeightsLeft = async () => {
    const store = S3Store.fromEnv();
    const bucket = store.defaultBucket();
    let left = 0;
    for (const o of await store.listKeys(bucket, 'cache/content/')) {
      const bytes = await store.getObject(bucket, o.key);
      const length = bytes.byteLength >= 4 ? bytes.readUInt32BE(0) : -1;
      if (length < 2 || 4 + length > bytes.byteLength) continue;
      try {
        if ((JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as { modelTopology?: unknown }).modelTopology) left++;
      } catch {
        // raw content (prepared pixels), not a model bundle
      }
    }
    return left;
  };

  const local: Record<string, TrainPipelineResult> = {};

  for (const [name, opts] of [['pixels', pixelsOpts], ['backbone features', backboneOpts]] as const) {
    it(`computes the tuning trials (${name}) on workers with their own empty data folder, as the local pool does`, async () => {
      useS3(true);
      home(`local-${name}`);
      local[name] = await runTrainingPipeline(opts);
      const want = trialsOf(local[name]);
      expect(want.length).toBe(opts.tune!.trials);

      home(`queue-${name}`);
      const lines: string[] = [];
      const onQueue = await runTrainingPipeline({ ...opts, executor: queue, log: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/tuning: trials on queue redis:/);
      expect(trialsOf(onQueue), lines.join('\n')).toEqual(want);
      expect(onQueue.tuning!.bestParams).toEqual(local[name].tuning!.bestParams);
      expect(onQueue.run.metrics).toEqual(local[name].run.metrics);
      // Every stint recorded once, by the coordinator, with its model; the workers wrote no runs of their own.
      expect(await childRuns(onQueue)).toEqual(stints(onQueue));
      expectNoCoordinatorState();
      // The weights each stint answered with were needed only by the next rung: removed once the search ended.
      expect(await trialWeightsLeft()).toBe(0);
      const output = workers.map((w) => w.output()).join('\n');
      expect((output.match(/\(tuning-trial\) done/g) ?? []).length).toBeGreaterThanOrEqual(stints(onQueue).length);
    }, 1_200_000);
  }

  it('a trial worker killed mid-trial leaves exactly one child run per trial stint, and the same trials', async () => {
    useS3(true);
    home('queue-killed');
    const q = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    const events = new QueueEvents(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    await events.waitUntilReady();
    let killed: WorkerProcess | null = null;
    let killing = false;
    // Once a trial has reported training progress, kill the worker computing it (found by the job's processedBy).
    events.on('progress', ({ jobId }: { jobId: string }) => {
      if (killing || !jobId.startsWith('tuning-trial')) return;
      killing = true;
      void Job.fromId(q, jobId).then((job) => {
        const pid = Number(job?.processedBy?.split('-').pop());
        killed = workers.find((w) => w.child.pid === pid) ?? null;
        killed?.child.kill('SIGKILL');
        if (!killed) killing = false;
      });
    });
    try {
      const onQueue = await runTrainingPipeline({ ...pixelsOpts, executor: queue });
      expect(killed, 'a trial worker was killed').not.toBeNull();
      expect(await killed!.exited).toBe('SIGKILL');
      expect(trialsOf(onQueue)).toEqual(trialsOf(local.pixels));
      expect(onQueue.run.metrics).toEqual(local.pixels.run.metrics);
      expect(await childRuns(onQueue)).toEqual(stints(onQueue));
    } finally {
      await events.close();
      await q.close();
    }
    await addWorker();
  }, 1_200_000);

  it('predicts and evaluates on workers that download the model the coordinator published', async () => {
    home('predict');
    // Deployed without S3: the version is not published until the queue needs it.
    useS3(false);
    const deployed = await runDeployPipeline({ ...pixelsOpts, tune: null, policy: { minPrecision: 0, minRecall: 0 } });
    expect(deployed.decision?.action).toBe('promote');
    const version = deployed.version.version;
    useS3(true);
    const loc = { ...parseModelsUrl(`s3://${s3.bucket}/models`), store: s3.store };
    expect(await readRemoteManifest(loc, version)).toBeNull();

    const photos = path.join(tmp, 'photos');
    await photoFolder(photos, 20, 80, 3);
    await fsp.writeFile(path.join(photos, 'cat', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n not a png'));
    const plain = await runInferencePipeline({ data: photos, out: path.join(tmp, 'plain.json') });
    const onQueue = await runInferencePipeline({ data: photos, out: path.join(tmp, 'queue.json'), executor: queue, shardSize: 6 });
    expect({ ...onQueue, out: '' }).toEqual({ ...plain, out: '' });
    expect(await fsp.readFile(onQueue.out, 'utf8')).toBe(await fsp.readFile(plain.out, 'utf8'));
    expect(await evaluateLabelledSource(photos, { executor: queue, shardSize: 6 })).toEqual(await evaluateLabelledSource(photos));

    expect(await readRemoteManifest(loc, version)).not.toBeNull();
    expect(workers.some((w) => /\(predict-shard\) done/.test(w.output()))).toBe(true);
    const downloaded = workerHomes.filter((dir) => fs.existsSync(path.join(dir, 'cache', 'models')) && fs.readdirSync(path.join(dir, 'cache', 'models')).some((f) => f.startsWith(`v${version}-`)));
    expect(downloaded.length).toBeGreaterThan(0);
    expectNoCoordinatorState();
  }, 900_000);
});
