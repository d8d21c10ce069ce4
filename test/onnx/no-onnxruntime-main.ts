// Run by no-onnxruntime.test.ts with test/helpers/no-onnxruntime.cjs preloaded in every process and thread (through
// NODE_OPTIONS), as on a platform where onnxruntime-node cannot load, and with a promoted ImageNet-backbone model in
// AREYOUACAT_HOME: computes features and predictions in each place that runs the backbone and prints them as JSON.
import fs from 'node:fs/promises';
import path from 'node:path';
import { engineFor } from '../../src/model/engine.js';
import { photoWholeView, viewFeatures } from '../../src/model/photo-features.js';
import { loadOnnxRuntime } from '../../src/onnx/runtime.js';
import { localJobExecutor } from '../../src/pipelines/job-kinds.js';
import { runInferencePipeline } from '../../src/pipelines/infer-pipeline.js';
import { readPromoted } from '../../src/registry/registry.js';
import { loadTfjsServingModel, POOL, type PooledServingModel } from '../../src/serve/tfjs-model.js';

const { folder, photos, out } = JSON.parse(process.argv[2]) as { folder: string; photos: string[]; out: string };
const ID = 'imagenet-mobilenet-v1';
const MAX_PIXELS = 12_000_000;

const load = loadOnnxRuntime();
// Asked twice: said once.
const engines = [engineFor(ID), engineFor(ID)];

const promoted = (await readPromoted())!;
const size = promoted.card.imageSize;
const bytes = await Promise.all(photos.map((p) => fs.readFile(path.join(folder, p))));
const views = await Promise.all(bytes.map((b) => photoWholeView(b, size)));

// This process.
const features = await viewFeatures(ID, views, false, 4);

// The server's inference threads: predictions and the features kept for feedback.
const model: PooledServingModel = await loadTfjsServingModel(promoted, { workers: 2 });
await model[POOL]!.allStarted();
const served = await Promise.all(views.map((v) => model.predict(v.pixels, { height: v.height, width: v.width })));
const feedbackFeatures = await Promise.all(bytes.map((b) => model.features!(b, MAX_PIXELS)));
model.dispose();

// Batch inference in shards on a local pool of two processes.
const pool = localJobExecutor({ workers: 2 });
let inferred: unknown;
try {
  const r = await runInferencePipeline({ data: folder, out, executor: pool, shardSize: 2 });
  inferred = JSON.parse(await fs.readFile(r.out, 'utf8'));
} finally {
  await pool.close();
}

process.stdout.write(
  JSON.stringify({
    reason: load.reason ?? null,
    engines,
    features: Array.from(features),
    served,
    feedbackFeatures: feedbackFeatures.map((f) => f.views.map((v) => Array.from(v))),
    inferred,
  }),
  () => process.exit(0),
);
