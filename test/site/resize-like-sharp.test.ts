import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { decodeRgb } from '../../src/data/prepare.js';
import { prepareWholeView as trainingWholeView } from '../../src/data/whole-view.js';
// The predict page's resize, checked byte for byte against sharp (libvips), which training uses.
import { prepareWholeView, resizeLikeSharp } from '../../reports/components/preprocess.js';
import { catsV1Dir } from '../model/fixtures.js';
import { pixelDifference } from './pixel-difference.js';

const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveCats) console.warn(`resize photo check skipped: cats-v1 not found at ${catsV1Dir()} (set AREYOUACAT_CATS_V1)`);

/** Noise with flat patches: the hardest case for a resampler (every weight and rounding step shows). */
function noise(width: number, height: number, seed: string): Uint8Array {
  const rng = seedrandom(seed);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = rng() < 0.5 ? Math.floor(rng() * 256) : i >= 3 ? out[i - 3] : 128;
  return out;
}

async function sharpResize(rgb: Uint8Array, width: number, height: number, outW: number, outH: number, fit: 'cover' | 'fill') {
  const { data, info } = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(outW, outH, { fit, position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

describe('resizeLikeSharp reproduces libvips\' resize', () => {
  it.each([
    // enlarging (bicubic affine), odd sizes and scales
    [128, 128, 224, 224], [131, 97, 224, 320], [97, 131, 320, 224], [40, 30, 64, 64], [200, 200, 224, 224],
    // shrinking by under 2 (Lanczos-3 only), with a box pre-shrink (2, 3, 5 and more), odd sizes
    [256, 190, 288, 224], [333, 250, 96, 96], [640, 480, 299, 224], [1000, 700, 99, 70], [1201, 899, 128, 160], [2000, 1500, 97, 83],
  ])('%ix%i to %ix%i: the bytes of sharp (fit fill, each axis its own scale)', async (w, h, tw, th) => {
    const rgb = noise(w, h, `${w}x${h}`);
    const ref = await sharpResize(rgb, w, h, tw, th, 'fill');
    const mine = resizeLikeSharp(rgb, w, h, tw / w, th / h);
    expect([mine.width, mine.height]).toEqual([ref.width, ref.height]);
    // Measured: identical for all but 1201x899 (mean 0.009, max 2). libvips steps sample positions by repeated
    // addition from the top of each tile of rows it computes; a position within rounding error of a 1/64 boundary
    // can then pick the neighbouring mask, which this (stepping from the top of the image) cannot know.
    const { mean, max } = pixelDifference(ref.pixels, mine.pixels);
    expect(max).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThan(0.01);
  });

  it.each([
    [256, 190, 64], [171, 256, 224], [128, 128, 224], [831, 1334, 64], [547, 1322, 96], [1391, 1497, 24], [3000, 2000, 224],
  ])('%ix%i to a whole view at %i px: sharp\'s cover crop, the same bytes but for rare ones', async (w, h, s) => {
    const rgb = noise(w, h, `whole-${w}x${h}`);
    const view = prepareWholeView(rgb, w, h, s);
    const ref = await sharpResize(rgb, w, h, view.width, view.height, 'cover');
    const { mean, max } = pixelDifference(ref.pixels, view.pixels);
    // As above: rare differences where a sample position falls on a mask boundary (measured mean 0-0.013, max 2).
    expect(max).toBeLessThanOrEqual(2);
    expect(mean).toBeLessThan(0.03);
  });

  it.skipIf(!haveCats)('cats-v1 photos (enlarged and shrunk): the whole view matches training', async () => {
    let worst = 0;
    let total = 0;
    let n = 0;
    for (const group of ['cat', 'dog', 'misc', 'selfie']) {
      const files = (await fs.readdir(path.join(catsV1Dir(), group))).filter((f) => f.endsWith('.jpg')).sort().slice(0, 5);
      for (const f of files) {
        const img = await decodeRgb(await fs.readFile(path.join(catsV1Dir(), group, f)), 1e9);
        const training = await trainingWholeView(img, 224);
        const { mean, max } = pixelDifference(training.pixels, prepareWholeView(new Uint8Array(img.data), img.width, img.height, 224).pixels);
        worst = Math.max(worst, max);
        total += mean;
        n++;
      }
    }
    expect(n).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(2);
    expect(total / n).toBeLessThan(0.01);
  });
});
