import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '../../src/tfjs/index.js';

/** The shared pretrained models folder beside the project (AREYOUACAT_SHARED_MODELS to move it). */
export function sharedModelsDir(): string {
  return path.resolve(process.env.AREYOUACAT_SHARED_MODELS ?? '../shared/models');
}

export function catsV1Dir(): string {
  return path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
}

export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** The ImageNet MobileNet v1 0.75 (tfjs layers format) of the shared models folder, or null when it is missing. */
export async function loadMobilenet(): Promise<tf.LayersModel | null> {
  const dir = path.join(sharedModelsDir(), 'mobilenet_v1_0.75_224');
  if (!(await exists(path.join(dir, 'model.json')))) return null;
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFile(path.join(dir, p))));
  const data = Buffer.concat(buffers);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
}

/** `count` cats-v1 photos (spread over the groups), centre-cropped to size x size RGB 0..255 as one NHWC batch. */
export async function catsV1Batch(count: number, size: number): Promise<{ pixels: Float32Array; files: string[] } | null> {
  const dir = catsV1Dir();
  if (!(await exists(path.join(dir, 'manifest.csv')))) return null;
  const groups = ['cat', 'dog', 'selfie', 'misc'];
  const files: string[] = [];
  for (let i = 0; files.length < count; i++) {
    const g = groups[i % groups.length];
    const names = (await fs.readdir(path.join(dir, g))).filter((f) => f.endsWith('.jpg')).sort();
    files.push(path.join(dir, g, names[(Math.floor(i / groups.length) * 37) % names.length]));
  }
  const per = size * size * 3;
  const pixels = new Float32Array(count * per);
  await Promise.all(
    files.map(async (f, i) => {
      const raw = await sharp(f).rotate().removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
      for (let k = 0; k < per; k++) pixels[i * per + k] = raw[k];
    }),
  );
  return { pixels, files };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Reload the MobileNet topology at another input height and width (it is fully convolutional up to its pool). */
export async function mobilenetAtSize(model: tf.LayersModel, height: number, width: number): Promise<tf.LayersModel> {
  const topology = structuredClone(model.toJSON(null, false)) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  const input = topology.config.layers.find((l) => l.class_name === 'InputLayer')!;
  input.config.batch_input_shape = [null, height, width, 3];
  const copy = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  copy.setWeights(model.getWeights());
  return copy;
}

/**
 * Give every batch norm layer of `model` moving statistics, scales and shifts away from their initial 0/1, so a
 * comparison tests them (a new model's batch norms are the identity at inference).
 */
export function randomizeBatchNorms(model: tf.LayersModel, seed = 7): void {
  let s = seed;
  const uniform = (shape: number[], lo: number, hi: number) => tf.randomUniform(shape, lo, hi, 'float32', s++);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.weights.map((w) => {
        const name = w.originalName.split('/').pop();
        if (name === 'moving_variance') return uniform(w.shape as number[], 0.3, 2);
        if (name === 'gamma') return uniform(w.shape as number[], 0.5, 1.5);
        return uniform(w.shape as number[], -0.5, 0.5);
      }),
    );
  }
}
