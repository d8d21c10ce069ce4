/**
 * Serving benchmark: autocannon against a loopback `areyouacat serve` with a 64x64 model, 50 concurrent clients
 * POSTing a real JPEG to /api/predict. Baselines measured in the same run: GET /api/health with the same load
 * (HTTP floor) and the in-process cost of one prediction (preparation + forward pass, no HTTP).
 * Prints one JSON object. The machine's cores are shared: numbers are noisy.
 *
 *   npm run bench:serve [-- --duration 10 --connections 50]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../src/model/cnn.js';
import { selectBackend } from '../src/model/backend.js';
import { saveModel } from '../src/model/io.js';
import { promote, readPromoted, registerModel } from '../src/registry/registry.js';
import { startServer } from '../src/serve/server.js';
import { prepareImage } from '../src/data/prepare.js';
import type { MetricSnapshot } from '../src/monitoring/prometheus-registry.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function benchPhoto(): Promise<{ data: Buffer; from: string }> {
  const root = process.env.AREYOUACAT_CATS_V1 ?? path.resolve('../shared/datasets/cats-v1');
  try {
    const dir = path.join(root, 'cat');
    const name = fs.readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort()[0];
    if (name) return { data: fs.readFileSync(path.join(dir, name)), from: `cats-v1 cat/${name}` };
  } catch {
    // fall through to a generated photo
  }
  const w = 256, h = 192;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
  return { data: await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer(), from: 'generated 256x192' };
}

/** The promoted model when it takes 64x64 input; else an untrained reference CNN registered in a temp home. */
let tempHome: string | null = null;

async function ensureModel(): Promise<{ version: number; source: string }> {
  const current = await readPromoted().catch(() => null);
  if (current && current.card.imageSize === 64) return { version: current.version, source: 'promoted' };
  tempHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ayac-bench-serve-'));
  process.env.AREYOUACAT_HOME = tempHome;
  await selectBackend();
  const model = buildCnn(REFERENCE_HYPERPARAMETERS, 1);
  const dir = path.join(process.env.AREYOUACAT_HOME, 'model');
  await saveModel(model, dir);
  model.dispose();
  const v = await registerModel({
    modelDir: dir,
    runId: null,
    dataset: { name: null, manifestHash: 'bench' },
    metrics: { precision: 0, recall: 0, f1: 0, accuracy: 0, rocAuc: null, prAuc: null },
    threshold: 0.5,
    thresholdStrategy: 'fixed',
    imageSize: 64,
    notes: { purpose: 'serving benchmark (untrained reference CNN)' },
  });
  await promote(v.version, { force: true, reason: 'serving benchmark' });
  return { version: v.version, source: 'untrained reference CNN (temp home)' };
}

function summarise(r: autocannon.Result) {
  const l = r.latency as unknown as Record<string, number>;
  return {
    requests: r.requests.total,
    reqPerSec: Math.round(r.requests.average),
    latencyMs: { p50: l.p50, p90: l.p90, p97_5: l.p97_5, p99: l.p99, max: l.max, mean: Math.round(l.average * 100) / 100 },
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

async function main(): Promise<void> {
  const duration = arg('duration', 10);
  const connections = arg('connections', 50);
  const model = await ensureModel();
  const photo = await benchPhoto();
  const srv = await startServer({ port: 0, siteRoot: null, rateLimit: null, snapshotMs: 0, log: () => undefined });
  try {
    const serving = srv.holder.current!;
    // In-process baseline: the work of one request without HTTP (prepare + forward pass of a batch of one).
    const n = 200;
    for (let i = 0; i < 20; i++) await serving.predict(await prepareImage(photo.data, serving.imageSize));
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await prepareImage(photo.data, serving.imageSize);
    const prepareMs = (performance.now() - t0) / n;
    const pixels = await prepareImage(photo.data, serving.imageSize);
    t0 = performance.now();
    for (let i = 0; i < n; i++) await serving.predict(pixels);
    const forwardMs = (performance.now() - t0) / n;

    const url = `${srv.url}/api/predict`;
    await run({ url, method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo.data, connections, duration: 2 }); // warm-up
    const predict = summarise(
      await run({ url, method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo.data, connections, duration }),
    );
    const health = summarise(await run({ url: `${srv.url}/api/health`, connections, duration: Math.max(3, Math.round(duration / 2)) }));
    const single = summarise(
      await run({ url, method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo.data, connections: 1, duration: 3 }),
    );
    const out = {
      bench: 'serve',
      model: { version: model.version, source: model.source, imageSize: serving.imageSize },
      photo: { from: photo.from, bytes: photo.data.length },
      connections,
      durationS: duration,
      predict,
      singleClient: single,
      baselines: {
        health: health,
        inProcess: { prepareMsPerImage: Math.round(prepareMs * 100) / 100, forwardMsPerImage: Math.round(forwardMs * 100) / 100 },
      },
      ratios: {
        predictVsHealthReqPerSec: Math.round((predict.reqPerSec / Math.max(1, health.reqPerSec)) * 1000) / 1000,
        singleClientP50VsInProcessWork: Math.round((single.latencyMs.p50 / (prepareMs + forwardMs)) * 100) / 100,
      },
      target: { p50Ms: 10, met: predict.latencyMs.p50 < 10 && predict.errors === 0 && predict.non2xx === 0 },
      meanBatchSize: meanOf(srv.metrics.batchSize.snapshot()),
      monitoringSamplesSkipped: srv.metrics.monitoringSkipped.get(),
      cpus: os.cpus().length,
      note: 'loopback on a shared 2-core machine: client and server compete for the same cores; numbers are noisy',
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await srv.close();
    if (tempHome) fs.rmSync(tempHome, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
