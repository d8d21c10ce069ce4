import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../src/data/ingest.js';
import { prepareImage } from '../../src/data/prepare.js';
import { JobFailedError, type Executor } from '../../src/jobs/job.js';
import { prepareImagesWithJobs } from '../../src/jobs/prepared-pixel-jobs.js';
import { PREPARED_PIXELS_KIND } from '../../src/jobs/prepared-pixels-shard.js';
import { DEFAULT_QUEUE_NAME } from '../../src/jobs/queue-connection.js';
import { QueueExecutor } from '../../src/jobs/queue-executor.js';
import { runDeployPipeline, type DeployPipelineOptions } from '../../src/pipelines/deploy-pipeline.js';
import { evaluateLabelledSource } from '../../src/pipelines/evaluate-folder.js';
import { runInferencePipeline } from '../../src/pipelines/infer-pipeline.js';
import { localJobExecutor } from '../../src/pipelines/job-kinds.js';
import { PREDICT_SHARD_KIND } from '../../src/pipelines/predict-shard.js';
import { DEFAULT_HYPERPARAMETERS, runTrainingPipeline } from '../../src/pipelines/train-pipeline.js';
import { TRIAL_KIND } from '../../src/pipelines/trial-job.js';
import type { TrialTask } from '../../src/pipelines/trial-task.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { photoFolder, runCli, SMALL_TUNED_PIPELINE, startWorker, stopWorker, type WorkerProcess } from './fixtures.js';
import { HOME_AND_S3_ENV, saveEnv } from '../helpers/env.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

// Tuning trials and prediction shards are job kinds like the feature shards: the local pool and two queue workers
// compute the same trials and the same predictions as the path without jobs. Trials and prediction shards read
// the registry and the prepared data from the data folder, so the workers share the coordinator's.
describe.skipIf(!hasRedisServer)('tuning trials and prediction shards as jobs', () => {
  let tmp: string;
  let redis: TestRedis;
  let queue: QueueExecutor;
  const workers: WorkerProcess[] = [];
  const restoreEnv = saveEnv(HOME_AND_S3_ENV);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-kinds-'));
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home');
    delete process.env.AREYOUACAT_S3_BUCKET;
    redis = await startTestRedis();
    const env = { ...process.env };
    // The default lock: a worker's first trial sets up the backend for a few seconds without yielding, longer
    // than the short lock of the takeover tests.
    const lock = ['--lock-duration', '30000'];
    workers.push(await startWorker(redis.url, env, lock), await startWorker(redis.url, env, lock));
    queue = await QueueExecutor.open({ url: redis.url });
  }, 300_000);

  afterAll(async () => {
    await queue?.close();
    for (const w of workers) await stopWorker(w);
    await redis?.stop(true);
    restoreEnv();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const opts: DeployPipelineOptions = { ...SMALL_TUNED_PIPELINE, policy: { minPrecision: 0, minRecall: 0 } };
  const trialsOf = (t: { outcome: { trials: Array<{ index: number; params: unknown; rungs: Array<{ epochs: number; score: number }> }> } } | null) =>
    t!.outcome.trials.map((x) => ({ index: x.index, params: x.params, rungs: x.rungs.map((r) => ({ epochs: r.epochs, score: r.score })) }));

  it('runs the tuning trials on the local pool and on the queue with the same results', async () => {
    // Default executor: the trials go to a local pool of the pipeline job kinds.
    const deployed = await runDeployPipeline(opts);
    expect(deployed.decision?.action).toBe('promote');
    const local = trialsOf(deployed.training.tuning);
    expect(local).toHaveLength(3);
    expect(local.flatMap((t) => t.rungs).length).toBeGreaterThan(3);

    const lines: string[] = [];
    const onQueue = await runTrainingPipeline({ ...opts, executor: queue, force: true, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/tuning: trials on queue redis:/);
    expect(trialsOf(onQueue.tuning), lines.join('\n')).toEqual(local);
    expect(onQueue.tuning!.bestParams).toEqual(deployed.training.tuning!.bestParams);
    expect(onQueue.run.metrics).toEqual(deployed.training.run.metrics);
    // Each stint ran exactly once (no lock expired, no job was taken over).
    const output = workers.map((w) => w.output()).join('\n');
    expect((output.match(/\(tuning-trial\) done/g) ?? []).length, output).toBe(local.flatMap((t) => t.rungs).length);
  }, 900_000);

  it('predicts and evaluates a folder in shards on the local pool and on the queue with the rows of the local path', async () => {
    const photos = path.join(tmp, 'photos');
    await photoFolder(photos, 20, 80, 3);
    await fs.writeFile(path.join(photos, 'cat', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n not a png'));
    const read = async (file: string) => JSON.parse(await fs.readFile(file, 'utf8')) as unknown[];

    const plain = await runInferencePipeline({ data: photos, out: path.join(tmp, 'plain.json') });
    expect(plain.n).toBe(21);
    expect(plain.rejected).toBe(1);
    const want = await read(plain.out);
    const pool = localJobExecutor({ workers: 2 });
    const executors: Array<[string, Executor]> = [['pool', pool], ['queue', queue]];
    try {
      for (const [name, executor] of executors) {
        const progress: number[] = [];
        const r = await runInferencePipeline({ data: photos, out: path.join(tmp, `${name}.json`), executor, shardSize: 6, onProgress: (d) => progress.push(d) });
        expect({ ...r, out: '' }, name).toEqual({ ...plain, out: '' });
        expect(await read(r.out), name).toEqual(want);
        expect(progress.at(-1), name).toBe(4);
        expect(await evaluateLabelledSource(photos, { executor, shardSize: 6 }), name).toEqual(await evaluateLabelledSource(photos));
      }
    } finally {
      await pool.close();
    }
    expect(workers.some((w) => /\(predict-shard\) done/.test(w.output()))).toBe(true);

    // The CLI: `pipeline infer` and `evaluate` with --queue.
    const cliOut = path.join(tmp, 'cli.json');
    const infer = runCli(['pipeline', 'infer', '--data', photos, '--out', cliOut, '--queue', redis.url], process.env);
    expect(await infer.exited, infer.output()).toBe(0);
    expect(infer.output()).toMatch(/21 images scored with v\d+ .*1 rejected/);
    expect(await read(cliOut)).toEqual(want);
    const evaluate = runCli(['evaluate', '--data', photos, '--queue', redis.url, '--json'], process.env);
    expect(await evaluate.exited, evaluate.output()).toBe(0);
    const local = runCli(['evaluate', '--data', photos, '--json'], process.env);
    expect(await local.exited, local.output()).toBe(0);
    const json = (out: string): Record<string, unknown> => JSON.parse(out.slice(out.indexOf("{"))) as Record<string, unknown>;
    expect(json(evaluate.output())).toEqual(json(local.output()));
  }, 600_000);

  it('prepares the images the prepared-pixel cache lacks as shards on the local pool and on the queue, as ingest does', async () => {
    const photos = path.join(tmp, 'ingest-photos');
    await photoFolder(photos, 24, 90, 4);
    const pool = localJobExecutor({ workers: 2 });
    // One size per executor: the prepared-pixel cache is shared, and each must miss it.
    const mix = { cat: 0.5, misc: 0.5 };
    const runs: Array<[string, Executor, number]> = [['pool', pool, 40], ['queue', queue, 48]];
    try {
      for (const [name, executor, size] of runs) {
        // A first ingest checks the images; the second, at another size, reuses those checks and prepares nothing
        // while checking, so every selected image goes to the jobs.
        await ingestDataset({ spec: photos, name: `px-${name}`, size: 32, mix });
        const progress: number[] = [];
        const r = await ingestDataset({ spec: photos, name: `px-${name}`, size, mix, prepareImages: prepareImagesWithJobs(executor, photos, { shardSize: 5, onProgress: (d) => progress.push(d) }) });
        expect(r.summary.cache.preparedHit, name).toBe(false);
        expect(progress.at(-1), name).toBeGreaterThan(1);
        let checked = 0;
        for (const split of [r.prepared.train, r.prepared.val, r.prepared.test]) {
          const per = size * size * 3;
          for (const [i, p] of split.paths.entries()) {
            const want = await prepareImage(await fs.readFile(path.join(photos, p)), size);
            expect(Buffer.from(split.pixels.subarray(i * per, (i + 1) * per)).equals(Buffer.from(want)), `${name} ${p}`).toBe(true);
            checked++;
          }
        }
        expect(checked, name).toBeGreaterThan(10);
      }
    } finally {
      await pool.close();
    }
    expect(workers.some((w) => /\(prepared-pixels\) done/.test(w.output()))).toBe(true);
  }, 600_000);

  it('a trial, prediction or prepared-pixel shard that fails for a deterministic reason fails once, with its reason', async () => {
    const nothing = { labels: [], pixels: { sha256: '', size: 0, inline: '' } };
    const task: TrialTask = {
      datasetName: 'none', runName: 'trial-bad', store: 'none', data: { kind: 'pixels', size: 64, train: nothing, val: nothing },
      settings: { hyperparameters: { ...DEFAULT_HYPERPARAMETERS, imageSize: 64 }, epochs: 0, patience: 1, seed: 1, classWeight: null, threshold: { kind: 'maximize-f1' } },
    };
    const bad = [
      { kind: TRIAL_KIND, input: task, reason: /trial trial-bad: epochs must be an integer >= 1, got 0/ },
      { kind: PREDICT_SHARD_KIND, input: { source: opts.data, items: [{ path: 'x', group: 'cat', source: '' }], version: 99 }, reason: /cannot load model v99/ },
      { kind: PREPARED_PIXELS_KIND, input: { source: opts.data, items: [{ path: 'x', group: 'cat', source: '' }], size: 4 }, reason: /size must be an integer from 8 to 1024, got 4/ },
    ];
    const q = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    const pool = localJobExecutor({ workers: 1 });
    try {
      for (const b of bad) {
        const err = (await queue.run([{ kind: b.kind, input: b.input }]).then(() => null, (e: unknown) => e)) as JobFailedError;
        expect(err, b.kind).toBeInstanceOf(JobFailedError);
        expect(err.reason).toMatch(b.reason);
        const job = await Job.fromId(q, err.jobId);
        expect(job?.attemptsMade, b.kind).toBe(1);
        expect(await job?.getState()).toBe('failed');
        await expect(pool.run([{ kind: b.kind, input: b.input }])).rejects.toThrow(b.reason);
      }
    } finally {
      await q.close();
      await pool.close();
    }
  }, 300_000);
});
