/**
 * How well a backbone's features tell a cat from a dog, the confusion that limits the model on cats-v1. Every cat
 * and dog photo of cats-v1 (or AREYOUACAT_CATS_V1) goes through the backbone once at its whole view, as training
 * sees it (plain view only); the pipeline's 688 features are pooled, and with them any other graph nodes named in
 * PROBE_NODES (comma-separated TensorFlow node names, each averaged over height and width). Two heads are trained
 * on each feature set (logistic, and the default head's shape: batch norm, dropout 0.2, 64 ReLU, dropout 0.2;
 * mean over three seeds) on a fixed 70/15/15 split by photo hash, and scored on the test split; then once per cat
 * or dog source held out of training. Prints one JSON object: ROC AUC and errors at 0.5 for every feature set.
 *
 *   npm run bench:feature-probe                                   (the default backbone, its default recipe)
 *   PROBE_BACKBONE=coco-centernet npm run bench:feature-probe
 *   PROBE_VIEW=centre PROBE_SIZE=288 PROBE_MIRROR=0 npm run bench:feature-probe
 *   PROBE_CONCAT=coco-centernet npm run bench:feature-probe        (the default backbone's features and COCO's, side by side)
 *   PROBE_SIZE=384 PROBE_NODES=tower_0/MobilenetV3/expanded_conv_14/expand/hard_swish/mul_1 npm run bench:feature-probe
 *
 * A few minutes of backbone time on 2 cores (3,000 photos); the heads take seconds.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../src/tfjs/index.js';
import { mapLimit } from '../src/data/concurrency.js';
import { FEATURE_RECIPE, loadBackbone } from '../src/model/backbone.js';
import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../src/model/backbones.js';
import { engineFor } from '../src/model/engine.js';
import { selectBackend } from '../src/model/index.js';
import { photoWholeView, viewFeatures } from '../src/model/photo-features.js';
import { decodeRgb, prepareDecoded } from '../src/data/prepare.js';
import { DEFAULT_LIMITS } from '../src/data/inspect.js';
import type { ViewPixels } from '../src/data/whole-view.js';
import { ensureModelFiles } from '../src/model-files/index.js';
import { rocAuc } from '../src/stats/roc-auc.js';

const dataDir = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
const backbone = process.env.PROBE_BACKBONE ?? DEFAULT_PHOTO_BACKBONE;
const size = Number(process.env.PROBE_SIZE ?? backboneSpec(backbone).defaultImageSize);
/** 'whole': the photo at its aspect (what the pipeline feeds); 'centre': the centre square. */
const viewKind = process.env.PROBE_VIEW ?? 'whole';
/** Also the mirrored view: heads train on both and predict the mean over a photo and its mirror image (as the pipeline does). */
const mirror = (process.env.PROBE_MIRROR ?? '1') !== '0';
/** Another backbone whose features (at its own default size, whole view) are appended. */
const concat = process.env.PROBE_CONCAT ?? '';
const extraNodes = (process.env.PROBE_NODES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const maxPerGroup = Number(process.env.PROBE_MAX ?? Infinity);

interface Photo {
  path: string;
  label: 0 | 1;
  source: string;
  split: 'train' | 'val' | 'test';
}

function readPhotos(): Photo[] {
  const [header, ...lines] = fs.readFileSync(path.join(dataDir, 'manifest.csv'), 'utf8').trim().split('\n');
  const col = (name: string) => {
    const i = header.split(',').indexOf(name);
    if (i < 0) throw new Error(`${dataDir}/manifest.csv has no "${name}" column`);
    return i;
  };
  const [p, l, s] = [col('path'), col('label'), col('source')];
  const rows = lines.map((line) => line.split(','));
  const photos: Photo[] = [];
  for (const group of ['cat', 'dog']) {
    const hash = (r: string[]) => createHash('sha256').update(r[p]).digest('hex');
    const mine = rows.filter((r) => r[l] === group).sort((a, b) => (hash(a) < hash(b) ? -1 : 1)).slice(0, maxPerGroup);
    mine.forEach((r, k) => photos.push({ path: r[p], label: group === 'cat' ? 1 : 0, source: r[s], split: k < 0.7 * mine.length ? 'train' : k < 0.85 * mine.length ? 'val' : 'test' }));
  }
  return photos;
}

async function viewOf(bytes: Buffer, at: number): Promise<ViewPixels> {
  if (viewKind === 'centre') return { width: at, height: at, pixels: await prepareDecoded(await decodeRgb(bytes, DEFAULT_LIMITS.maxPixels), at) };
  return photoWholeView(bytes, at);
}

/** A photo's features, plain and (with PROBE_MIRROR) mirrored: the backbone's recipe, then PROBE_CONCAT's, then any PROBE_NODES. */
async function featuresOf(bytes: Buffer): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const flip of mirror ? [false, true] : [false]) {
    const parts = [await viewFeatures(backbone, [await viewOf(bytes, size)], flip, 1)];
    if (concat) parts.push(await viewFeatures(concat, [await viewOf(bytes, backboneSpec(concat).defaultImageSize)], flip, 1));
    if (extraNodes.length) parts.push(await extraFeatures(bytes, flip));
    const row = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      row.set(p, at);
      at += p.length;
    }
    out.push(row);
  }
  return out;
}

/** Extra CenterNet graph nodes (PROBE_NODES), each averaged over height and width, after the recipe's nodes. */
async function extraFeatures(bytes: Buffer, flip: boolean): Promise<Float32Array> {
  const view = await photoWholeView(bytes, size);
  const graph = await loadBackbone(view.height, view.width);
  const out = tf.tidy(() => {
    let x = tf.tensor4d(Float32Array.from(view.pixels), [1, view.height, view.width, 3]);
    if (flip) x = tf.reverse(x, 2);
    const maps = graph.execute(x, [...FEATURE_RECIPE.nodes, ...extraNodes]) as tf.Tensor4D[];
    return tf.concat(maps.slice(FEATURE_RECIPE.nodes.length).map((m) => m.mean([1, 2])), 1);
  });
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

async function headScores(cols: number[], rows: Float32Array[][], labels: number[], train: number[], test: number[], hidden: boolean): Promise<Float32Array> {
  const views = rows[0].length;
  const pick = (ids: number[], v: number) => tf.tensor2d(Float32Array.from(ids.flatMap((i) => cols.map((c) => rows[i][v][c]))), [ids.length, cols.length]);
  // Training rows: every view of every training photo; test: the mean over a photo's views.
  const xs = tf.concat(Array.from({ length: views }, (_, v) => pick(train, v)));
  const ys = tf.tensor2d(Array.from({ length: views }, () => train.map((i) => labels[i])).flat(), [train.length * views, 1]);
  const xts = Array.from({ length: views }, (_, v) => pick(test, v));
  const mean = new Float32Array(test.length);
  for (const seed of [1, 2, 3]) {
    const m = tf.sequential();
    m.add(tf.layers.inputLayer({ inputShape: [cols.length] }));
    m.add(tf.layers.batchNormalization());
    if (hidden) {
      m.add(tf.layers.dropout({ rate: 0.2, seed }));
      m.add(tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
      m.add(tf.layers.dropout({ rate: 0.2, seed: seed + 10 }));
    }
    m.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 20 }) }));
    m.compile({ optimizer: tf.train.adam(2e-3), loss: 'binaryCrossentropy' });
    await m.fit(xs, ys, { epochs: hidden ? 15 : 30, batchSize: 32, shuffle: true, verbose: 0 });
    for (const xt of xts) {
      const p = m.predict(xt) as tf.Tensor;
      (await p.data()).forEach((v, k) => (mean[k] += v / (3 * views)));
      p.dispose();
    }
    m.dispose();
  }
  tf.dispose([xs, ys, ...xts]);
  return mean;
}

async function score(cols: number[], rows: Float32Array[][], labels: number[], train: number[], test: number[]) {
  const out: Record<string, { rocAuc: number | null; errors: number }> = {};
  for (const [name, hidden] of [['logistic', false], ['defaultHead', true]] as const) {
    const p = await headScores(cols, rows, labels, train, test, hidden);
    const y = test.map((i) => labels[i]);
    out[name] = { rocAuc: rocAuc(y, p) === null ? null : Number(rocAuc(y, p)!.toFixed(4)), errors: y.filter((v, k) => (p[k] >= 0.5 ? 1 : 0) !== v).length };
  }
  return out;
}

if (!fs.existsSync(path.join(dataDir, 'manifest.csv'))) {
  console.log(JSON.stringify({ bench: 'feature-probe', skipped: `cats-v1 not found at ${dataDir} (set AREYOUACAT_CATS_V1)` }));
} else {
  const backend = await selectBackend();
  for (const id of [backbone, ...(concat ? [concat] : [])]) await ensureModelFiles(id);
  const photos = readPhotos();
  const started = performance.now();
  let done = 0;
  const rows = await mapLimit(photos, 2, async (photo) => {
    const f = await featuresOf(fs.readFileSync(path.join(dataDir, photo.path)));
    if (++done % 300 === 0) process.stderr.write(`feature-probe: ${done}/${photos.length} photos\n`);
    return f;
  });
  const msPerPhoto = (performance.now() - started) / photos.length;
  const labels = photos.map((p) => p.label);
  const ids = (keep: (p: Photo) => boolean) => photos.flatMap((p, i) => (keep(p) ? [i] : []));
  const total = rows[0][0].length;
  const own = backboneSpec(backbone).features;
  const sets: Record<string, number[]> = { recipe: Array.from({ length: own }, (_, i) => i) };
  if (concat) sets[`recipe+${concat}`] = Array.from({ length: own + backboneSpec(concat).features }, (_, i) => i);
  if (extraNodes.length) sets['recipe+extra'] = Array.from({ length: total }, (_, i) => i);
  const result: Record<string, unknown> = {};
  // With the mirror, the same features scored on the plain view alone: what the mirror mean adds.
  const plainOnly = rows.map((r) => [r[0]]);
  const runs: Array<[string, number[], Float32Array[][]]> = Object.entries(sets).map(([name, cols]) => [name, cols, rows]);
  if (mirror) runs.push(['recipe, plain view only', sets.recipe, plainOnly]);
  for (const [name, cols, rows] of runs) {
    const split = await score(cols, rows, labels, ids((p) => p.split !== 'test'), ids((p) => p.split === 'test'));
    const heldOut: Record<string, unknown> = {};
    for (const source of [...new Set(photos.map((p) => p.source))].sort()) {
      // Train without the source; test on it and on the other class's test photos of the other sources.
      heldOut[source] = await score(cols, rows, labels, ids((p) => p.source !== source && p.split !== 'test'), ids((p) => p.source === source || p.split === 'test'));
    }
    result[name] = { features: cols.length, test: split, heldOut };
  }
  console.log(JSON.stringify({
    bench: 'feature-probe',
    backbone,
    engine: engineFor(backbone),
    backend,
    view: viewKind,
    mirrorMean: mirror,
    concat: concat || null,
    imageSize: size,
    extraNodes,
    photos: photos.length,
    test: ids((p) => p.split === 'test').length,
    msPerPhoto: Number(msPerPhoto.toFixed(1)),
    note: 'heads: mean of 3 seeds (with the mirror: trained on both views, predicting their mean); cores shared with other work, so msPerPhoto is noisy',
    ...result,
  }, null, 2));
}
