import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '../../src/tfjs/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewPixels } from '../../src/data/whole-view.js';
import { backboneArtifacts, backboneFeatures, BACKBONE_FEATURES, BACKBONE_ID, FEATURE_RECIPE, loadBackbone } from '../../src/model/backbone.js';
import { selectBackend } from '../../src/model/backend.js';
import { centernetFeatureExport, exportCenternetFeatures } from '../../src/model/centernet-onnx.js';
import { engineFor } from '../../src/model/engine.js';
import { photoWholeView, viewFeatures } from '../../src/model/photo-features.js';
import { OnnxExportError, UnsupportedOnnxOpError } from '../../src/onnx/errors.js';
import { exportGraphModel } from '../../src/onnx/graph-export.js';
import { OnnxSession } from '../../src/onnx/runtime.js';
import { catsV1Batch, catsV1Dir, exists, maxAbsDiff } from './helpers.js';
import { checkWithOnnxPackage } from './onnx-checker.js';

/**
 * The coco-centernet backbone (a TensorFlow.js graph model) exported by the graph-model exporter and run on ONNX
 * Runtime, against tfjs-wasm running the graph itself, on real cats-v1 photos: the 688 features must agree to 1e-4.
 */

const TOLERANCE = 1e-4;
const SIZE = 256;

let home: string;
let haveCats = false;
const saved = { home: process.env.AREYOUACAT_HOME, engine: process.env.AREYOUACAT_ENGINE };

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-centernet-onnx-'));
  process.env.AREYOUACAT_HOME = home;
  await selectBackend({ prefer: 'wasm' });
  haveCats = await exists(path.join(catsV1Dir(), 'manifest.csv'));
  if (!haveCats) console.warn(`coco-centernet ONNX comparisons skipped: cats-v1 is missing from ${catsV1Dir()}`);
});

afterAll(async () => {
  for (const [k, v] of [['AREYOUACAT_HOME', saved.home], ['AREYOUACAT_ENGINE', saved.engine]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await fs.rm(home, { recursive: true, force: true });
});

/** Whole views at SIZE of cats-v1 photos of several aspects (square, landscape, portrait, wide), `perAspect` of each. */
async function wholeViews(perAspect: number): Promise<ViewPixels[]> {
  const lines = (await fs.readFile(path.join(catsV1Dir(), 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
  const rows = lines.map((l) => {
    const [p, , , w, h] = l.split(',');
    return { path: p, aspect: Number(w) / Number(h) };
  });
  const views: ViewPixels[] = [];
  for (const wanted of [(a: number) => a === 1, (a: number) => a > 1.25 && a < 1.45, (a: number) => a > 0.6 && a < 0.85, (a: number) => a > 1.6]) {
    const picked = rows.filter((r) => wanted(r.aspect)).filter((_, i) => i % 11 === 0).slice(0, perAspect);
    for (const r of picked) views.push(await photoWholeView(await fs.readFile(path.join(catsV1Dir(), r.path)), SIZE));
  }
  return views;
}

describe('the coco-centernet backbone on ONNX Runtime', () => {
  it('a fixed-size export (explicit SAME pads, the rewritten upsampling sizes) gives backboneFeatures of tfjs-wasm on real photos', async ({ skip }) => {
    const photos = await catsV1Batch(8, SIZE);
    if (!photos) skip(`cats-v1 is missing from ${catsV1Dir()}`);
    const bytes = await exportCenternetFeatures({ height: SIZE, width: SIZE });
    await checkWithOnnxPackage(bytes);
    const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
    const out = await session.run({ data: photos!.pixels, dims: [8, SIZE, SIZE, 3] });
    await session.release();
    expect(out.dims).toEqual([8, BACKBONE_FEATURES]);
    const graph = await loadBackbone(SIZE, SIZE);
    const want = tf.tidy(() => backboneFeatures(graph, tf.tensor4d(photos!.pixels, [8, SIZE, SIZE, 3])).dataSync());
    const diff = maxAbsDiff(want, out.data);
    console.log(`coco-centernet features at ${SIZE}x${SIZE}, fixed-size export, 8 photos: max abs difference ${diff.toExponential(2)} (values up to ${Math.max(...want).toFixed(3)})`);
    expect(diff).toBeLessThan(TOLERANCE);
  }, 300_000);

  it("the engine's export (one graph for every accepted height and width) gives tfjs's features on whole views of several shapes, plain and mirrored", async ({ skip }) => {
    if (!haveCats) skip(`cats-v1 is missing from ${catsV1Dir()}`);
    const views = await wholeViews(3);
    const shapes = new Set(views.map((v) => `${v.height}x${v.width}`));
    expect(shapes.size).toBeGreaterThanOrEqual(3);
    delete process.env.AREYOUACAT_ENGINE;
    expect(engineFor(BACKBONE_ID)).toBe('onnxruntime');
    for (const flip of [false, true]) {
      process.env.AREYOUACAT_ENGINE = 'onnxruntime';
      const onnx = await viewFeatures(BACKBONE_ID, views, flip, 4);
      process.env.AREYOUACAT_ENGINE = 'tfjs';
      expect(engineFor(BACKBONE_ID)).toBe('tfjs-wasm');
      const wasm = await viewFeatures(BACKBONE_ID, views, flip, 4);
      delete process.env.AREYOUACAT_ENGINE;
      expect(onnx.length).toBe(views.length * BACKBONE_FEATURES);
      const diff = maxAbsDiff(wasm, onnx);
      console.log(`coco-centernet features, engine export vs tfjs-wasm, ${views.length} whole views (${[...shapes].join(' ')}), ${flip ? 'mirrored' : 'plain'}: max abs difference ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
    }
    // The export was cached under the data folder, by content.
    expect((await fs.readdir(path.join(home, 'cache', 'onnx'))).filter((f) => f.endsWith('.onnx')).length).toBeGreaterThanOrEqual(1);
  }, 600_000);

  it('refuses a shape the backbone does not accept, as the tfjs path does', async ({ skip }) => {
    if (!haveCats) skip(`cats-v1 is missing from ${catsV1Dir()}`);
    const view: ViewPixels = { width: 100, height: 64, pixels: new Uint8Array(100 * 64 * 3) };
    await expect(viewFeatures(BACKBONE_ID, [view], false)).rejects.toThrow(/multiple of 32/);
  });

  it('caches exports by content: the same file again, another one per fixed shape', async () => {
    const dir = path.join(home, 'cache-test');
    const first = await centernetFeatureExport(undefined, dir);
    const again = await centernetFeatureExport(undefined, dir);
    expect(first.cached).toBe(false);
    expect(again.cached).toBe(true);
    expect(again.path).toBe(first.path);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    const fixed = await centernetFeatureExport({ height: 256, width: 320 }, dir);
    expect(fixed.cached).toBe(false);
    expect(fixed.path).not.toBe(first.path);
    await checkWithOnnxPackage(first.bytes);
  }, 300_000);
});

describe('coco-centernet graph ops the exporter does not know', () => {
  it('a hand-edited topology with an unknown op is an UnsupportedOnnxOpError naming the op and the node', async () => {
    const artifacts = await backboneArtifacts(SIZE);
    const topology = artifacts.modelTopology as { node: { name: string; op: string }[] };
    const edited = topology.node.find((n) => n.name === 'tower_0/CenternetHead/Relu_2')!;
    edited.op = 'Selu';
    let err: unknown;
    try {
      exportGraphModel(artifacts, { outputs: FEATURE_RECIPE.nodes, pool: FEATURE_RECIPE.reducers });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toBe('op Selu');
    expect((err as Error).message).toContain('node "tower_0/CenternetHead/Relu_2"');
  });

  it("the detector's own box decoding (TopKV2, Cast, GatherV2, ...) is refused by name, not written", async () => {
    const artifacts = await backboneArtifacts(SIZE);
    let err: unknown;
    try {
      exportGraphModel(artifacts, { outputs: ['tower_0/detections'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toMatch(/^op (Cast|TopKV2|GatherV2|StridedSlice|FloorDiv|FloorMod|ExpandDims|Equal|Reshape)$/);
    expect((err as Error).message).toMatch(/node "tower_0\//);
  });

  it('the graph at sizes chosen at run time needs proportionalResize for its three upsampling sizes', async () => {
    const artifacts = await backboneArtifacts(SIZE);
    expect(() => exportGraphModel(artifacts, { outputs: FEATURE_RECIPE.nodes, pool: FEATURE_RECIPE.reducers, dynamicSize: true })).toThrow(OnnxExportError);
  });
});
