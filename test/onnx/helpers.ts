import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';

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
