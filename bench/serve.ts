/**
 * Serving benchmark: autocannon against a loopback `areyouacat serve`, POSTing cats-v1 photos to /api/predict, for
 * inference pools of worker threads (default 1 and 2) and for each engine of the backbone (default ONNX Runtime and
 * tfjs-wasm, the engine before ONNX Runtime) in one run: req/s and latency at 1 and at 50 clients, the ratios pool 2 /
 * pool 1 and ONNX Runtime / tfjs-wasm at 50 clients, and GET /api/health latency (p50/p99) measured while the 50
 * clients keep inference saturated. Default model: the default photo backbone's classifier (imagenet-mobilenet-v1 at
 * 224): the promoted one when it is such a model, else an untrained one registered in a temp home (same cost per
 * image). `--backbone none` benchmarks the 64x64 reference CNN instead. Prints one JSON object. The machine's cores
 * are shared with the load generator (same process) and other jobs: numbers are noisy.
 *
 *   npm run bench:serve [-- --duration 10 --connections 50 --pools 1,2 --engines onnxruntime,tfjs --backbone imagenet-mobilenet-v1|coco-centernet|none]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../src/model/cnn.js';
import { selectBackend } from '../src/model/backend.js';
import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../src/model/backbones.js';
import { backboneSizesOf, saveModel, MODEL_JSON, type LayersModelJson } from '../src/model/io.js';
import { promote, readPromoted, registerModel } from '../src/registry/registry.js';
import { startServer } from '../src/serve/server.js';
import { POOL, type PooledServingModel } from '../src/serve/tfjs-model.js';
import type { MetricSnapshot } from '../src/monitoring/prometheus-registry.js';
import { prepareImage } from '../src/data/prepare.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function benchPhotos(max = 16): Promise<{ data: Buffer[]; from: string }> {
  const root = process.env.AREYOUACAT_CATS_V1 ?? path.resolve('../shared/datasets/cats-v1');
  try {
    const data: Buffer[] = [];
    for (const group of ['cat', 'dog', 'misc', 'selfie']) {
      const dir = path.join(root, group);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort().slice(0, max / 4)) data.push(fs.readFileSync(path.join(dir, name)));
    }
    if (data.length) return { data, from: `cats-v1 (${data.length} photos from its groups)` };
  } catch {
    // fall through to a generated photo
  }
  const w = 256, h = 192;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
  return { data: [await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer()], from: 'generated 256x192' };
}

let tempHome: string | null = null;

/** The promoted model when it is the kind asked for; else an untrained one registered and promoted in a temp home. */
async function ensureModel(backbone: string | null): Promise<{ version: number; source: string; imageSize: number }> {
  const size = backbone ? backboneSpec(backbone).defaultImageSize : 64;
  const current = await readPromoted().catch(() => null);
  if (current && current.card.imageSize === size) {
    const json = JSON.parse(fs.readFileSync(path.join(current.dir, MODEL_JSON), 'utf8')) as LayersModelJson;
    if ((backboneSizesOf(json).length > 0) === (backbone !== null)) return { version: current.version, source: 'promoted', imageSize: size };
  }
  tempHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ayac-bench-serve-'));
  process.env.AREYOUACAT_HOME = tempHome;
  await selectBackend();
  if (backbone) await backboneSpec(backbone).load(size, size);
  // Untrained: the same layers, so the same cost per image as a trained model of the kind.
  const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize: size, backbone }, 1);
  const dir = path.join(tempHome, 'model');
  await saveModel(model, dir);
  model.dispose();
  const v = await registerModel({
    modelDir: dir,
    runId: null,
    dataset: { name: null, manifestHash: 'bench' },
    metrics: { precision: 0, recall: 0, f1: 0, accuracy: 0, rocAuc: null, prAuc: null },
    threshold: 0.5,
    thresholdStrategy: 'fixed',
    imageSize: size,
    notes: { purpose: `serving benchmark (untrained ${backbone ?? 'reference CNN'})` },
  });
  await promote(v.version, { force: true, reason: 'serving benchmark' });
  return { version: v.version, source: `untrained ${backbone ? `${backbone} classifier` : 'reference CNN'} (temp home)`, imageSize: size };
}

function summarise(r: autocannon.Result) {
  const l = r.latency as unknown as Record<string, number>;
  return {
    requests: r.requests.total,
    reqPerSec: Math.round(r.requests.average * 10) / 10,
    latencyMs: { p50: l.p50, p99: l.p99, max: l.max, mean: Math.round(l.average * 100) / 100 },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

function meanOf(snap: MetricSnapshot): number | null {
  const h = snap.series[0]?.histogram;
  return h && h.count ? Math.round((h.sum / h.count) * 100) / 100 : null;
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 10) / 10 : NaN;
}

/** GET /api/health one after another until `stop()`; latencies in ms. */
function probeHealth(url: string): { stop: () => Promise<number[]> } {
  const times: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const res = await fetch(`${url}/api/health`);
      await res.arrayBuffer();
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return times;
    },
  };
}

async function benchPool(workers: number, photos: Buffer[], connections: number, duration: number) {
  const srv = await startServer({ port: 0, siteRoot: null, rateLimit: null, snapshotMs: 0, monitorInputs: false, workers, log: () => undefined });
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed: the symbol key exists only on the pooled type
    await (srv.holder.current as PooledServingModel | null)?.[POOL]?.allStarted(); // measure the whole pool
    const url = `${srv.url}/api/predict`;
    const requests = photos.map((body) => ({ method: 'POST' as const, headers: { 'content-type': 'image/jpeg' }, body }));
    const opts = { url, requests };
    // autocannon stops at the deadline but the server still owes the requests it accepted: one more request, queued
    // behind them (batches are first come, first served), returns when they are done, so runs do not overlap.
    const drain = async () => {
      await (await fetch(url, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photos[0]) })).arrayBuffer();
    };
    await run({ ...opts, connections, duration: 3 }); // warm-up
    await drain();
    const single = summarise(await run({ ...opts, connections: 1, duration }));
    await drain();
    const probe = probeHealth(srv.url);
    const loaded = summarise(await run({ ...opts, connections, duration }));
    const health = (await probe.stop()).sort((a, b) => a - b);
    await drain();
    // Inference alone (no HTTP, no decoding): prepared images submitted 128 at a time through the micro-batcher.
    const model = srv.holder.current!;
    const prepared = await Promise.all(photos.map((p) => prepareImage(p, model.imageSize)));
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (duration * 1000) / 2) {
      await Promise.all(Array.from({ length: 128 }, (_, i) => model.predict(prepared[i % prepared.length])));
      images += 128;
    }
    const inferenceOnly = { imagesPerSec: Math.round((images / ((performance.now() - t0) / 1000)) * 10) / 10 };
    return {
      workers,
      oneClient: single,
      [`clients${connections}`]: loaded,
      inferenceOnly,
      healthDuringLoad: { samples: health.length, p50Ms: quantile(health, 0.5), p99Ms: quantile(health, 0.99), maxMs: quantile(health, 1) },
      meanBatchSize: meanOf(srv.metrics.batchSize.snapshot()),
      meanForwardPassMs: (() => {
        const m = meanOf(srv.metrics.inference.snapshot());
        return m === null ? null : Math.round(m * 1000 * 10) / 10;
      })(),
      loaded,
    };
  } finally {
    await srv.close();
  }
}

async function main(): Promise<void> {
  const duration = Number(arg('duration', '10'));
  const connections = Number(arg('connections', '50'));
  const pools = arg('pools', '1,2').split(',').map(Number);
  const engines = arg('engines', 'onnxruntime,tfjs').split(',');
  const backboneArg = arg('backbone', DEFAULT_PHOTO_BACKBONE);
  const backbone = backboneArg === 'none' ? null : backboneArg;
  const model = await ensureModel(backbone);
  const photos = await benchPhotos();
  try {
    type PoolResult = Awaited<ReturnType<typeof benchPool>>;
    const results: PoolResult[] = [];
    const engineOf = new Map<PoolResult, string>();
    // The engine is read when the server's inference workers load the model: one server per engine and pool size.
    for (const engine of engines) {
      process.env.AREYOUACAT_ENGINE = engine;
      for (const workers of pools) {
        const r = await benchPool(workers, photos.data, connections, duration);
        engineOf.set(r, engine);
        results.push(r);
      }
    }
    delete process.env.AREYOUACAT_ENGINE;
    const ratio = (f: (r: PoolResult) => number, engine = engines[0]) => {
      const one = results.find((r) => r.workers === 1 && engineOf.get(r) === engine);
      const two = results.find((r) => r.workers === 2 && engineOf.get(r) === engine);
      return one && two ? Math.round((f(two) / f(one)) * 100) / 100 : null;
    };
    const engineRatio = (workers: number) => {
      const ort = results.find((r) => r.workers === workers && engineOf.get(r) === 'onnxruntime');
      const wasm = results.find((r) => r.workers === workers && engineOf.get(r) === 'tfjs');
      return ort && wasm ? Math.round((ort.loaded.reqPerSec / wasm.loaded.reqPerSec) * 100) / 100 : null;
    };
    const out = {
      bench: 'serve',
      model: { ...model, backbone },
      photos: photos.from,
      connections,
      durationS: duration,
      pools: results.map(({ loaded: _loaded, ...r }, i) => ({ engine: engineOf.get(results[i]), ...r })),
      ratios: {
        pool2VsPool1ReqPerSec: ratio((r) => r.loaded.reqPerSec),
        pool2VsPool1InferenceOnly: ratio((r) => r.inferenceOnly.imagesPerSec),
        target: 1.7,
        onnxruntimeVsTfjsReqPerSec: Object.fromEntries(pools.map((w) => [`pool${w}`, engineRatio(w)])),
        onnxruntimeTarget: 3,
      },
      cpus: os.availableParallelism(),
      loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
      note: 'loopback on a shared 2-core machine: the load generator runs in the server process and competes for the same cores; numbers are noisy',
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    if (tempHome) fs.rmSync(tempHome, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
