/**
 * Speed of the pretrained-backbone model for photos (frozen COCO CenterNet backbone at 256x256 + trained head):
 * backbone features per second on this engine's backend against the stock pure-JS cpu backend in the same run
 * (a few images only: it is slow), and head training speed on features. Prints one JSON object. The machine may
 * be shared: wall-clock numbers are noisy; the ratio is measured in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { backboneArtifacts, backboneFeatures, BACKBONE_FEATURES } from '../src/model/backbone.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS, selectBackend, trainStep } from '../src/model/index.js';
import { headOf } from '../src/model/backbone-layer.js';

const size = Number(process.env.BENCH_BACKBONE_SIZE ?? 256);
const images = Number(process.env.BENCH_BACKBONE_IMAGES ?? 64);
const cpuImages = Number(process.env.BENCH_BACKBONE_CPU_IMAGES ?? 2);
const batchSize = 16;

async function featuresPerSecond(n: number, batch: number): Promise<number> {
  const graph = await tf.loadGraphModel(tf.io.fromMemory(await backboneArtifacts(size)));
  const x = tf.randomUniform<tf.Rank.R4>([batch, size, size, 3], 0, 255, 'float32', 3);
  tf.dispose(backboneFeatures(graph, x)); // warm-up (kernel setup, weight upload)
  const t0 = performance.now();
  for (let done = 0; done < n; done += batch) {
    const f = backboneFeatures(graph, x);
    await f.data();
    f.dispose();
  }
  const perSecond = (Math.ceil(n / batch) * batch) / ((performance.now() - t0) / 1000);
  x.dispose();
  graph.dispose();
  return perSecond;
}

const backend = await selectBackend();
const engine = await featuresPerSecond(images, batchSize);

// Head training on features: the part that repeats every epoch and every tuning trial.
const hp = { ...REFERENCE_HYPERPARAMETERS, imageSize: size, backbone: 'coco-centernet', denseUnits: 128, dropout: 0.3, batchSize: 32 };
const model = buildCnn(hp, 1);
const head = headOf(model);
const optimizer = tf.train.adam(1e-3);
const feats = tf.randomNormal([32, BACKBONE_FEATURES], 0, 1, 'float32', 4);
const labels = tf.randomUniform([32, 1], 0, 1, 'float32', 5).round() as tf.Tensor2D;
const step = () => tf.tidy(() => { const r = trainStep(head, optimizer, feats, labels); tf.keep(r.cost); r.probs.dispose(); return r.cost; });
(await step().data());
const steps = 200;
const t1 = performance.now();
for (let i = 0; i < steps; i++) { const c = step(); await c.data(); c.dispose(); }
const headImagesPerSecond = (steps * 32) / ((performance.now() - t1) / 1000);

await tf.setBackend('cpu');
const cpu = await featuresPerSecond(cpuImages, 1);

console.log(JSON.stringify({
  bench: 'backbone',
  backbone: 'coco-centernet',
  imageSize: size,
  backend,
  featuresPerSecond: Number(engine.toFixed(2)),
  msPerImage: Number((1000 / engine).toFixed(1)),
  cpuBackendFeaturesPerSecond: Number(cpu.toFixed(3)),
  speedupOverCpuBackend: Number((engine / cpu).toFixed(1)),
  headTrainingImagesPerSecond: Math.round(headImagesPerSecond),
  cats_v1_featureSeconds: Number(((4199 * 2 + 901) / engine).toFixed(0)),
  note: 'cats_v1_featureSeconds: train, mirrored train and validation of the default 70/15/15 split at this speed',
}, null, 2));
