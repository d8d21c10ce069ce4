import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { decodeRgb, prepareDecoded } from '../../src/data/prepare.js';
import { prepareWholeView as trainingWholeView, wholeViewShape as trainingShape } from '../../src/data/whole-view.js';
// The browser-side preprocessing of the predict page, checked against the training pipeline.
import { modelImageSize, occlusionMap, prepareRgb, prepareWholeView, rgbaToRgb, scaleToUnit, wholeViewShape } from '../../reports/components/preprocess.js';
import { drawPhoto } from './fixture.js';
import { pixelDifference } from './pixel-difference.js';

async function compare(width: number, height: number, size: number, seed: string, whole = false) {
  const raw = drawPhoto('cat', width, height, seedrandom(seed));
  const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  const decoded = await decodeRgb(jpeg, 1e8);
  const training = whole ? (await trainingWholeView(decoded, size)).pixels : await prepareDecoded(decoded, size);
  const browser = whole
    ? prepareWholeView(new Uint8Array(decoded.data), decoded.width, decoded.height, size).pixels
    : prepareRgb(new Uint8Array(decoded.data), decoded.width, decoded.height, size).pixels;
  return pixelDifference(training, browser);
}

describe('predict page preprocessing mirrors training', () => {
  it.each([
    [256, 192, 64], [192, 256, 64], [171, 256, 32], [128, 128, 64], [300, 120, 24], [1200, 900, 64],
  ])('%ix%i to %i px: same centre crop and Lanczos-3 resize as sharp', async (w, h, s) => {
    const { mean, max } = await compare(w, h, s, `${w}x${h}`);
    // The same bytes as sharp but for rare off-by-one values (test/site/resize-like-sharp.test.ts).
    expect(mean).toBeLessThan(0.05);
    expect(max).toBeLessThanOrEqual(2);
  });

  it.each([
    [256, 190, 64], [190, 256, 64], [1920, 1080, 128], [1080, 1920, 64], [900, 300, 64], [640, 480, 128], [500, 500, 64], [333, 250, 96],
  ])('%ix%i to a whole view at %i px: same shape, crop and Lanczos-3 resize as sharp', async (w, h, s) => {
    expect(wholeViewShape(w, h, s)).toEqual(trainingShape(w, h, s));
    const view = prepareWholeView(new Uint8Array(w * h * 3), w, h, s);
    expect([view.width, view.height]).toEqual([trainingShape(w, h, s).width, trainingShape(w, h, s).height]);
    const { mean, max } = await compare(w, h, s, `whole-${w}x${h}`, true);
    // The same resampler as for the square: sharp's bytes but for rare off-by-one values (the one-pixel shift
    // below is far off).
    expect(mean).toBeLessThan(0.05);
    expect(max).toBeLessThanOrEqual(2);
  });

  it('the whole view\'s shape follows the same rule as training for every aspect', () => {
    for (let w = 40; w <= 1000; w += 37) for (const h of [64, 100, 191, 256, 480]) for (const s of [64, 128, 256]) expect(wholeViewShape(w, h, s)).toEqual(trainingShape(w, h, s));
  });

  it('enlarging a photo smaller than the model input gives sharp\'s bytes too', async () => {
    // libvips enlarges with a fixed-point bicubic affine, which the browser reproduces.
    const { mean, max } = await compare(40, 30, 64, '40x30');
    expect(mean).toBeLessThan(0.05);
    expect(max).toBeLessThanOrEqual(2);
  });

  it('a wrong crop would be caught: shifting by one pixel is far off', async () => {
    const raw = drawPhoto('cat', 256, 192, seedrandom('shift'));
    const decoded = await decodeRgb(await sharp(raw, { raw: { width: 256, height: 192, channels: 3 } }).png().toBuffer(), 1e8);
    const training = await prepareDecoded(decoded, 64);
    const shifted = prepareRgb(new Uint8Array(decoded.data).subarray(3), 255, 192, 64).pixels; // wrong geometry
    let sum = 0;
    for (let i = 0; i < training.length; i++) sum += Math.abs(training[i] - shifted[i]);
    expect(sum / training.length).toBeGreaterThan(3);
  });

  it('flattens transparency on white, scales to [0, 1] and reads the input size of a saved model', () => {
    expect(Array.from(rgbaToRgb(new Uint8ClampedArray([0, 0, 0, 0, 10, 20, 30, 255]), 2, 1))).toEqual([255, 255, 255, 10, 20, 30]);
    expect(Array.from(scaleToUnit(new Uint8Array([0, 255])))).toEqual([0, 1]);
    const topology = { model_config: { config: { layers: [{ class_name: 'Conv2D', config: { batch_input_shape: [null, 48, 48, 3] } }] } } };
    expect(modelImageSize(topology)).toBe(48);
    expect(() => prepareRgb(new Uint8Array(0), 0, 0, 8)).toThrow(/no pixels/);
  });

  it('occlusion map: hiding the cell the model looks at lowers the probability there only', async () => {
    const size = 8;
    const input = new Float32Array(size * size * 3).fill(0.2);
    // A "model" that only looks at the top-left 4x4 quarter.
    const predict = async (batch: Float32Array[]) => batch.map((x) => {
      let s = 0;
      for (let y = 0; y < 4; y++) for (let xx = 0; xx < 4; xx++) s += x[(y * size + xx) * 3];
      return s / 16;
    });
    const map = await occlusionMap(input, size, predict, { grid: 2, fill: 1 });
    expect(map.base).toBeCloseTo(0.2);
    expect(map.drops[0]).toBeCloseTo(-0.8);
    expect(map.drops.slice(1)).toEqual([0, 0, 0]);
    // a whole view (wider than tall): cells are width/grid x height/grid
    const wide = new Float32Array(8 * 16 * 3).fill(0.2);
    const right = async (batch: Float32Array[]) => batch.map((x) => x[(7 * 16 + 15) * 3]); // the bottom-right pixel
    const wideMap = await occlusionMap(wide, { width: 16, height: 8 }, right, { grid: 2, fill: 1 });
    expect(wideMap.drops).toEqual([0, 0, 0, expect.closeTo(-0.8)]);
  });
});
