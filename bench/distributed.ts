/**
 * Backbone features per second on cats-v1 photos (the default photo backbone, or BENCH_BACKBONE, at its own size) computed as jobs: on the local
 * pool with 1 and with 2 worker processes, and on a BullMQ queue (its own redis-server on a loopback port)
 * with 2 `areyouacat worker` processes, all in one run. Each configuration starts with an empty cache and is
 * warmed up (processes started, backbone loaded) before the timed part, which runs twice per configuration in
 * alternating order (the best round counts). Each round also reports the coordinator's CPU time as a share of its
 * wall time (`coordinatorCpuShare`: what this process costs the cores the workers compute on). Prints one JSON object; skips with a
 * message when the data set or redis-server is missing. BENCH_DISTRIBUTED_IMAGES sets the photo count (120).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FolderSource } from '../src/data/sources/folder.js';
import { prepareImage } from '../src/data/prepare.js';
import type { PreparedSplit } from '../src/data/types.js';
import { computeFeaturesWithJobs } from '../src/jobs/feature-jobs.js';
import type { Executor } from '../src/jobs/job.js';
import { LocalExecutor } from '../src/jobs/local-executor.js';
import { QueueExecutor } from '../src/jobs/queue-executor.js';
import { hasRedisServer, startTestRedis } from '../test/helpers/redis-server.js';
import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../src/model/backbones.js';
import { engineFor } from '../src/model/engine.js';

const DATA = path.resolve('..', 'shared', 'datasets', 'cats-v1');
const N = Number(process.env.BENCH_DISTRIBUTED_IMAGES ?? 120);
const BACKBONE = process.env.BENCH_BACKBONE ?? DEFAULT_PHOTO_BACKBONE;
const SIZE = backboneSpec(BACKBONE).defaultImageSize;
const SHARD = 10;
const WARM = 8;

function skip(reason: string): never {
  console.log(JSON.stringify({ bench: 'distributed', skipped: reason }, null, 2));
  process.exit(0);
}
if (!fs.existsSync(DATA)) skip(`cats-v1 not found at ../shared/datasets/cats-v1 (relative to the repository root)`);
if (!hasRedisServer) skip('redis-server is not installed');

async function splitOf(items: { path: string; group: string }[], source: FolderSource): Promise<PreparedSplit> {
  const per = SIZE * SIZE * 3;
  const pixels = new Uint8Array(items.length * per);
  for (const [i, item] of items.entries()) pixels.set(await prepareImage(await source.read({ ...item, source: '' }), SIZE), i * per);
  return { size: SIZE, n: items.length, pixels, labels: new Uint8Array(items.length), groups: items.map((x) => x.group), paths: items.map((x) => x.path) };
}

const source = new FolderSource(DATA);
const listed = (await source.list()).filter((x) => ['cat', 'dog', 'misc', 'selfie'].includes(x.group));
// Every group equally, in a fixed order.
const byGroup = new Map<string, typeof listed>();
for (const x of listed) byGroup.set(x.group, [...(byGroup.get(x.group) ?? []), x]);
const picked: typeof listed = [];
for (let i = 0; picked.length < N + 3 * WARM; i++) for (const g of byGroup.values()) if (g[i] && picked.length < N + 3 * WARM) picked.push(g[i]);
const warmSplits = [0, 1, 2].map((k) => picked.slice(N + k * WARM, N + (k + 1) * WARM));
const timed = await splitOf(picked.slice(0, N), source);
const warm = await Promise.all(warmSplits.map((w) => splitOf(w, source)));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-distributed-'));
const home = (name: string) => {
  process.env.AREYOUACAT_HOME = path.join(tmp, name);
  return process.env.AREYOUACAT_HOME;
};
delete process.env.AREYOUACAT_S3_BUCKET; // the queue workers return features with the job; no shared cache

interface Config {
  name: 'localPool1' | 'localPool2' | 'queue2Workers';
  executor: Executor;
  /** Data folder of the coordinator for this configuration (its whole-view cache stays apart). */
  home: string;
}

/** Features per second of one round, and the share of the round's wall time the coordinator spent on a CPU. */
async function timedRun(c: Config, flip: boolean): Promise<{ fps: number; coordinatorCpu: number }> {
  process.env.AREYOUACAT_HOME = c.home;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await computeFeaturesWithJobs({ backbone: BACKBONE, views: [{ images: timed, flip }], sourceSpec: DATA, executor: c.executor, shardSize: SHARD });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { fps: N / seconds, coordinatorCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** How long a queue worker may take to start (tsx, tfjs and the backbone load on a busy machine). */
const WORKER_START_MS = 180_000;

const redis = await startTestRedis();
const workerHome = home('queue-workers');
const workers = [0, 1].map(() => {
  const child = spawn(process.execPath, [path.join('bin', 'areyouacat.js'), 'worker', '--queue', redis.url], {
    env: { ...process.env, AREYOUACAT_HOME: workerHome }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    // The start line, as text on a terminal or as a JSON log line ({"msg":"worker ... on redis://..."}) otherwise.
    const started = /(^|"msg":")worker \S+ on redis:/m;
    const timer = setTimeout(() => reject(new Error(`worker did not start within ${WORKER_START_MS / 1000} s: ${out}`)), WORKER_START_MS);
    child.stderr.on('data', (d) => {
      out += d;
      if (started.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`worker exited: ${out}`));
    });
  });
  return { child, ready };
});
const results: Record<string, { featuresPerSecond: number; rounds: number[]; coordinatorCpuShare: number[]; warmupSeconds: number }> = {};
const configs: Config[] = [];
try {
  await Promise.all(workers.map((w) => w.ready));
  // Each pool's processes keep their per-image cache in the data folder current when they start.
  const h1 = home('pool-1');
  configs.push({ name: 'localPool1', executor: new LocalExecutor({ workers: 1 }), home: h1 });
  const h2 = home('pool-2');
  configs.push({ name: 'localPool2', executor: new LocalExecutor({ workers: 2 }), home: h2 });
  configs.push({ name: 'queue2Workers', executor: await QueueExecutor.open({ url: redis.url }), home: home('queue') });
  // Warm-up: every process starts and loads the backbone (one-image jobs, more than there are processes).
  for (const [k, c] of configs.entries()) {
    process.env.AREYOUACAT_HOME = c.home;
    const t0 = performance.now();
    await computeFeaturesWithJobs({ backbone: BACKBONE, views: [{ images: warm[k], flip: false }], sourceSpec: DATA, executor: c.executor, shardSize: 1 });
    results[c.name] = { featuresPerSecond: 0, rounds: [], coordinatorCpuShare: [], warmupSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)) };
  }
  // Two rounds in alternating order (plain, then mirrored views: no cache hits), so that changes in the load of a
  // shared machine hit every configuration; the best round of each is reported.
  for (const [round, flip] of [false, true].entries()) {
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    for (const c of order) {
      const r = await timedRun(c, flip);
      results[c.name].rounds.push(Number(r.fps.toFixed(2)));
      results[c.name].coordinatorCpuShare.push(Number(r.coordinatorCpu.toFixed(3)));
    }
  }
  for (const r of Object.values(results)) r.featuresPerSecond = Math.max(...r.rounds);
} finally {
  for (const c of configs) await c.executor.close();
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r)))));
  await redis.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

const fps = (k: string) => results[k].featuresPerSecond;
console.log(JSON.stringify({
  bench: 'distributed',
  backbone: BACKBONE,
  engine: engineFor(BACKBONE),
  imageSize: SIZE,
  photos: N,
  imagesPerJob: SHARD,
  cores: os.cpus().length,
  loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
  ...results,
  ratioLocal2To1: Number((fps('localPool2') / fps('localPool1')).toFixed(2)),
  ratioQueue2To1: Number((fps('queue2Workers') / fps('localPool1')).toFixed(2)),
}, null, 2));
process.exit(0);
