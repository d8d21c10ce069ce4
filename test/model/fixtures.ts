import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { PreparedSplit } from '../../src/data/types.js';
import { seededRandom } from '../../src/model/random.js';

/** Pack prepared images into a split. */
export function toSplit(size: number, images: Uint8Array[], labels: number[], groups: string[], paths: string[]): PreparedSplit {
  const per = size * size * 3;
  const pixels = new Uint8Array(images.length * per);
  images.forEach((img, i) => pixels.set(img, i * per));
  return { size, n: images.length, pixels, labels: Uint8Array.from(labels), groups, paths };
}

/**
 * Generated shapes (no files): positives carry a bright disc, negatives a bright bar, both at random places
 * over noise and random background brightness.
 */
export function generatedSplit(n: number, size: number, seed: number): PreparedSplit {
  const random = seededRandom(`generated:${seed}`);
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const img = new Uint8Array(size * size * 3);
    const bg = 40 + random() * 80;
    for (let p = 0; p < img.length; p++) img[p] = bg + random() * 40;
    const cx = size * (0.3 + 0.4 * random());
    const cy = size * (0.3 + 0.4 * random());
    const r = size * (0.15 + 0.1 * random());
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = label === 1 ? (x - cx) ** 2 + (y - cy) ** 2 < r * r : Math.abs(y - cy) < r / 3 && Math.abs(x - cx) < r * 1.5;
        if (inside) for (let c = 0; c < 3; c++) img[(y * size + x) * 3 + c] = 200 + random() * 55;
      }
    }
    images.push(img);
    labels.push(label);
  }
  return toSplit(size, images, labels, labels.map((l) => (l ? 'cat' : 'misc')), labels.map((_, i) => `generated/${i}`));
}

/** Centre-crop and resize an encoded image to size x size RGB, with the data layer's preparation when present. */
async function prepare(buf: Buffer, size: number): Promise<Uint8Array> {
  try {
    const mod = (await import('../../src/data/prepare.js')) as { prepareImage?: (b: Buffer, s: number) => Promise<Uint8Array> };
    if (mod.prepareImage) return await mod.prepareImage(buf, size);
  } catch {
    // data layer not available: decode here
  }
  const data = await sharp(buf).rotate().removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

export function catsV1Dir(): string {
  return path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
}

/**
 * A cats-v1 subset: 3 * `perGroupVal` photos per group spread evenly over each group's sorted file list (so every
 * upstream source appears); two of every three go to train, the third to val. Null when the set is missing.
 */
export async function catsV1Splits(perGroupVal: number, size: number): Promise<{ train: PreparedSplit; val: PreparedSplit } | null> {
  const dir = catsV1Dir();
  try {
    await fs.access(path.join(dir, 'manifest.csv'));
  } catch {
    return null;
  }
  const parts = { train: { images: [] as Uint8Array[], labels: [] as number[], groups: [] as string[], paths: [] as string[] } };
  const val = { images: [] as Uint8Array[], labels: [] as number[], groups: [] as string[], paths: [] as string[] };
  for (const g of ['cat', 'dog', 'selfie', 'misc']) {
    const files = (await fs.readdir(path.join(dir, g))).filter((f) => f.endsWith('.jpg')).sort();
    const count = Math.min(files.length, 3 * perGroupVal);
    const step = files.length / count;
    const chosen = Array.from({ length: count }, (_, k) => files[Math.floor(k * step)]);
    const loaded = await Promise.all(chosen.map(async (f) => prepare(await fs.readFile(path.join(dir, g, f)), size)));
    loaded.forEach((img, k) => {
      const to = k % 3 === 2 ? val : parts.train;
      to.images.push(img);
      to.labels.push(g === 'cat' ? 1 : 0);
      to.groups.push(g);
      to.paths.push(`${g}/${chosen[k]}`);
    });
  }
  const t = parts.train;
  return {
    train: toSplit(size, t.images, t.labels, t.groups, t.paths),
    val: toSplit(size, val.images, val.labels, val.groups, val.paths),
  };
}
