import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '../../src/tfjs/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { registerRegistryCommands } from '../../src/cli/commands/registry.js';
import type { ViewPixels } from '../../src/data/whole-view.js';
import { selectBackend } from '../../src/model/backend.js';
import { BACKBONE_ID } from '../../src/model/backbone.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../../src/model/cnn.js';
import { headOf } from '../../src/model/backbone-layer.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import { OnnxModelExportUnsupportedError } from '../../src/model/onnx-model.js';
import { photoWholeView } from '../../src/model/photo-features.js';
import { predictPhotoViews } from '../../src/model/predict.js';
import { loadImagenetNet } from '../../src/model/imagenet-mobilenet.js';
import { OnnxSession } from '../../src/onnx/runtime.js';
import { exportVersionOnnx, writeTritonRepository } from '../../src/registry/onnx-export.js';
import { registerModel } from '../../src/registry/registry.js';
import { catsV1Dir, exists, maxAbsDiff, randomizeBatchNorms, sharedModelsDir } from '../onnx/helpers.js';
import { checkWithOnnxPackage } from '../onnx/onnx-checker.js';

/**
 * `registry export`: a registered version as one ONNX file in a Triton layout, checked against what the server
 * answers (predictPhotoViews) on real cats-v1 photos.
 */

/** Measured on this machine: see the report of each run (printed). 1e-5 is the bound. */
const TOLERANCE = 1e-5;

let tmp: string;
let root: string;
let shared = false;
let haveCats = false;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-onnx-export-'));
  root = path.join(tmp, 'registry');
  haveCats = await exists(path.join(catsV1Dir(), 'manifest.csv'));
  shared = haveCats && (await exists(path.join(sharedModelsDir(), 'mobilenet_v1_0.75_224', 'model.json')));
  await selectBackend({ prefer: 'wasm' });
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function register(model: tf.LayersModel, imageSize: number) {
  const dir = path.join(tmp, `model-${Math.random().toString(36).slice(2)}`);
  await saveModel(model, dir);
  return registerModel({
    root,
    modelDir: dir,
    runId: null,
    dataset: { name: 'test', manifestHash: 'test' },
    metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
    threshold: 0.42,
    thresholdStrategy: 'fixed',
    imageSize,
  });
}

interface ManifestRow {
  path: string;
  label: string;
  width: number;
  height: number;
}

async function manifest(): Promise<ManifestRow[]> {
  const lines = (await fs.readFile(path.join(catsV1Dir(), 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
  return lines.map((l) => {
    const [p, label, , w, h] = l.split(',');
    return { path: p, label, width: Number(w), height: Number(h) };
  });
}

/** Whole views of cats-v1 photos of several aspects (square, landscape, portrait, wide), `perAspect` of each. */
async function wholeViews(size: number, perAspect: number): Promise<ViewPixels[]> {
  const rows = (await manifest()).filter((r) => r.label === 'cat' || r.label === 'dog');
  const aspects: [string, (a: number) => boolean][] = [
    ['square', (a) => a === 1],
    ['landscape', (a) => a > 1.25 && a < 1.45],
    ['portrait', (a) => a > 0.6 && a < 0.85],
    ['wide', (a) => a > 1.6],
  ];
  const views: ViewPixels[] = [];
  for (const [, wanted] of aspects) {
    const picked = rows.filter((r) => wanted(r.width / r.height)).filter((_, i) => i % 7 === 0).slice(0, perAspect);
    for (const r of picked) views.push(await photoWholeView(await fs.readFile(path.join(catsV1Dir(), r.path)), size));
  }
  return views;
}

/** p_cat of the exported model, one ONNX Runtime call per view shape (a whole view's shape is its own). */
async function onnxPCat(bytes: Uint8Array, views: ViewPixels[]): Promise<Float32Array> {
  const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    expect(session.inputNames).toEqual(['pixels']);
    expect(session.outputNames).toEqual(['p_cat']);
    const out = new Float32Array(views.length);
    const byShape = new Map<string, number[]>();
    views.forEach((v, i) => byShape.set(`${v.height}x${v.width}`, [...(byShape.get(`${v.height}x${v.width}`) ?? []), i]));
    for (const indices of byShape.values()) {
      const { height, width } = views[indices[0]];
      const per = height * width * 3;
      const data = new Float32Array(indices.length * per);
      indices.forEach((index, j) => data.set(views[index].pixels, j * per));
      const r = await session.run({ data, dims: [indices.length, height, width, 3] });
      expect(r.dims).toEqual([indices.length, 1]);
      indices.forEach((index, j) => (out[index] = r.data[j]));
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The fields of a config.pbtxt that Triton reads for this model (a line-oriented check of the text we write). */
function parseConfig(text: string) {
  const field = (key: string) => new RegExp(`^\\s*${key}:\\s*"?([^"\\n]*)"?\\s*$`, 'm').exec(text)?.[1];
  const block = (kind: 'input' | 'output') => {
    const m = new RegExp(`^${kind} \\[\\n([\\s\\S]*?)\\n\\]`, 'm').exec(text);
    if (!m) return null;
    return {
      name: /name: "([^"]+)"/.exec(m[1])?.[1],
      dataType: /data_type: (\w+)/.exec(m[1])?.[1],
      dims: /dims: \[([^\]]*)\]/.exec(m[1])?.[1].split(',').map((d) => Number(d.trim())),
    };
  };
  return { name: field('name'), platform: field('platform'), maxBatchSize: Number(field('max_batch_size')), input: block('input'), output: block('output') };
}

describe('registry export --format onnx', () => {
  it('exports an imagenet-mobilenet-v1 backbone model whose p_cat matches the server on whole views of several shapes', async ({ skip }) => {
    if (!shared) skip(`../shared is missing (cats-v1 at ${catsV1Dir()}, MobileNet at ${sharedModelsDir()})`);
    const imageSize = 224;
    await loadImagenetNet();
    // The default head on this backbone: a linear correction of the prior (averaged heads are one such head).
    const built = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize, backbone: 'imagenet-mobilenet-v1', denseUnits: 0, dropout: 0.7 }, 7);
    const head = headOf(built).layers.find((l) => l.name === 'head') as tf.LayersModel;
    randomizeBatchNorms(head, 3);
    const correction = head.getLayer('correction');
    correction.setWeights([tf.randomUniform([770, 1], -0.01, 0.01, 'float32', 5), tf.tensor1d([0.2])]);
    const v = await register(built, imageSize);
    built.dispose();

    const out = path.join(tmp, 'triton');
    const r = await writeTritonRepository(v.version, out, { root, cacheDir: path.join(tmp, 'onnx-cache'), name: 'cat_or_not' });
    expect(r.model).toBe(path.join(out, 'cat_or_not', '1', 'model.onnx'));
    const bytes = new Uint8Array(await fs.readFile(r.model));
    await checkWithOnnxPackage(bytes);

    const config = parseConfig(await fs.readFile(path.join(out, 'cat_or_not', 'config.pbtxt'), 'utf8'));
    expect(config).toEqual({
      name: 'cat_or_not',
      platform: 'onnxruntime_onnx',
      maxBatchSize: 0,
      input: { name: 'pixels', dataType: 'TYPE_FP32', dims: [-1, -1, -1, 3] },
      output: { name: 'p_cat', dataType: 'TYPE_FP32', dims: [-1, 1] },
    });

    const views = await wholeViews(imageSize, 3);
    const shapes = new Set(views.map((v) => `${v.width}x${v.height}`));
    expect(shapes.size).toBeGreaterThanOrEqual(3);
    const model = await loadModel(v.dir);
    const served = await predictPhotoViews(model, views);
    const got = await onnxPCat(bytes, views);
    model.dispose();
    const diff = maxAbsDiff(served, got);
    console.log(`imagenet backbone model: ${views.length} photos, shapes ${[...shapes].join(' ')}; p_cat ${Math.min(...served).toFixed(4)}..${Math.max(...served).toFixed(4)}; max |onnx - served| = ${diff.toExponential(2)}`);
    expect(Math.max(...served) - Math.min(...served)).toBeGreaterThan(1e-2);
    expect(diff).toBeLessThan(TOLERANCE);

    // A second export is read from the cache: same bytes.
    const again = await exportVersionOnnx(v.version, { root, cacheDir: path.join(tmp, 'onnx-cache') });
    expect(Buffer.from(again.bytes).equals(Buffer.from(bytes))).toBe(true);
  }, 600_000);

  it('exports the CNN from scratch (square input, batched by Triton) with the same p_cat as tfjs', async ({ skip }) => {
    if (!shared) skip(`../shared is missing (cats-v1 at ${catsV1Dir()})`);
    const imageSize = 64;
    const built = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize, batchNorm: true, dropout: 0.25, denseUnits: 16 }, 5);
    randomizeBatchNorms(built, 9);
    const v = await register(built, imageSize);
    built.dispose();
    const out = path.join(tmp, 'triton-cnn');
    const r = await writeTritonRepository(v.version, out, { root, cacheDir: path.join(tmp, 'onnx-cache') });
    const bytes = new Uint8Array(await fs.readFile(r.model));
    await checkWithOnnxPackage(bytes);
    const config = parseConfig(await fs.readFile(r.config, 'utf8'));
    expect(config).toEqual({
      name: 'areyouacat',
      platform: 'onnxruntime_onnx',
      maxBatchSize: 64,
      input: { name: 'pixels', dataType: 'TYPE_FP32', dims: [imageSize, imageSize, 3] },
      output: { name: 'p_cat', dataType: 'TYPE_FP32', dims: [1] },
    });

    // Prepared squares, as the server gives the CNN.
    const rows = (await manifest()).filter((_, i) => i % 500 === 0).slice(0, 12);
    const sharp = (await import('sharp')).default;
    const views: ViewPixels[] = [];
    for (const row of rows) {
      const raw = await sharp(path.join(catsV1Dir(), row.path)).rotate().removeAlpha().resize(imageSize, imageSize, { fit: 'cover' }).raw().toBuffer();
      views.push({ width: imageSize, height: imageSize, pixels: new Uint8Array(raw) });
    }
    const model = await loadModel(v.dir);
    const served = await predictPhotoViews(model, views);
    model.dispose();
    const got = await onnxPCat(bytes, views);
    const diff = maxAbsDiff(served, got);
    console.log(`CNN from scratch: ${views.length} photos; p_cat ${Math.min(...served).toFixed(4)}..${Math.max(...served).toFixed(4)}; max |onnx - served| = ${diff.toExponential(2)}`);
    expect(Math.max(...served) - Math.min(...served)).toBeGreaterThan(1e-3);
    expect(diff).toBeLessThan(TOLERANCE);
  }, 300_000);

  it('exports a coco-centernet backbone model (the graph model through the graph exporter) whose p_cat matches the server', async ({ skip }) => {
    if (!haveCats) skip(`cats-v1 is missing from ${catsV1Dir()}`);
    const imageSize = 256;
    const saved = { engine: process.env.AREYOUACAT_ENGINE, home: process.env.AREYOUACAT_HOME };
    // The engine caches its feature export in the data folder: a fresh one.
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home-centernet');
    const built = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize, backbone: BACKBONE_ID, denseUnits: 16, dropout: 0.2 }, 11);
    randomizeBatchNorms(headOf(built), 5);
    const v = await register(built, imageSize);
    built.dispose();
    try {
      const out = path.join(tmp, 'triton-centernet');
      const r = await writeTritonRepository(v.version, out, { root, cacheDir: path.join(tmp, 'onnx-cache') });
      const bytes = new Uint8Array(await fs.readFile(r.model));
      await checkWithOnnxPackage(bytes);
      const config = parseConfig(await fs.readFile(r.config, 'utf8'));
      expect(config.input).toEqual({ name: 'pixels', dataType: 'TYPE_FP32', dims: [-1, -1, -1, 3] });
      expect(config.maxBatchSize).toBe(0);

      const views = await wholeViews(imageSize, 3);
      const shapes = new Set(views.map((w) => `${w.width}x${w.height}`));
      expect(shapes.size).toBeGreaterThanOrEqual(3);
      const model = await loadModel(v.dir);
      // The server as it runs (features on ONNX Runtime), and the server on tfjs-wasm alone (the graph itself).
      delete process.env.AREYOUACAT_ENGINE;
      const served = await predictPhotoViews(model, views);
      process.env.AREYOUACAT_ENGINE = 'tfjs';
      const servedTfjs = await predictPhotoViews(model, views);
      model.dispose();
      const got = await onnxPCat(bytes, views);
      const diff = maxAbsDiff(served, got);
      const diffTfjs = maxAbsDiff(servedTfjs, got);
      console.log(
        `coco-centernet backbone model: ${views.length} photos, shapes ${[...shapes].join(' ')}; p_cat ${Math.min(...served).toFixed(4)}..${Math.max(...served).toFixed(4)}; ` +
          `max |onnx - served| = ${diff.toExponential(2)}, max |onnx - served on tfjs-wasm| = ${diffTfjs.toExponential(2)}`,
      );
      expect(Math.max(...served) - Math.min(...served)).toBeGreaterThan(1e-2);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(diffTfjs).toBeLessThan(TOLERANCE);
    } finally {
      for (const [k, value] of [['AREYOUACAT_ENGINE', saved.engine], ['AREYOUACAT_HOME', saved.home]] as const) {
        if (value === undefined) delete process.env[k];
        else process.env[k] = value;
      }
    }
  }, 600_000);

  it('refuses a model on a backbone without ONNX stages with a typed error that says why, before loading it', async () => {
    const dir = path.join(tmp, 'other-backbone-model');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({
        modelTopology: { config: { layers: [{ class_name: 'AreyouacatPretrainedBackbone', config: { backbone: 'some-other-backbone', image_size: 256, view: 'whole-v1' } }] } },
        weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
      }),
    );
    await fs.writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(8));
    const v = await registerModel({
      root,
      modelDir: dir,
      runId: null,
      dataset: { name: 'test', manifestHash: 'test' },
      metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
      threshold: 0.5,
      thresholdStrategy: 'fixed',
      imageSize: 256,
    });
    const err = await exportVersionOnnx(v.version, { root, cacheDir: path.join(tmp, 'onnx-cache') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxModelExportUnsupportedError);
    expect((err as OnnxModelExportUnsupportedError).backbone).toBe('some-other-backbone');
    expect((err as Error).message).toMatch(/no ONNX stages/);
  });
  it('CLI: registry export V --format onnx --out DIR --json writes the Triton layout', async () => {
    const home = path.join(tmp, 'home');
    const saved = process.env.AREYOUACAT_HOME;
    process.env.AREYOUACAT_HOME = home;
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => ((out += String(text)), true));
    try {
      const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize: 32, filters: [4, 8, 8], denseUnits: 8 }, 2);
      const dir = path.join(tmp, 'cli-model');
      await saveModel(model, dir);
      model.dispose();
      const v = await registerModel({
        modelDir: dir,
        runId: null,
        dataset: { name: 'test', manifestHash: 'test' },
        metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
        threshold: 0.5,
        thresholdStrategy: 'fixed',
        imageSize: 32,
      });
      const repo = path.join(tmp, 'cli-repo');
      process.exitCode = 0;
      await buildProgram([registerRegistryCommands]).exitOverride().parseAsync(['node', 'areyouacat', 'registry', 'export', `v${v.version}`, '--format', 'onnx', '--out', repo, '--json']);
      expect(Number(process.exitCode ?? 0)).toBe(0);
      const summary = JSON.parse(out) as { version: number; model: string; input: { name: string; shape: (number | null)[] } };
      expect(summary).toMatchObject({ version: v.version, model: path.join(repo, 'areyouacat', '1', 'model.onnx'), input: { name: 'pixels', shape: [null, 32, 32, 3] } });
      expect(await exists(path.join(repo, 'areyouacat', 'config.pbtxt'))).toBe(true);
    } finally {
      write.mockRestore();
      process.exitCode = 0;
      if (saved === undefined) delete process.env.AREYOUACAT_HOME;
      else process.env.AREYOUACAT_HOME = saved;
    }
  });
});
