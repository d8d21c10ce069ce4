import { describe, expect, it } from 'vitest';
import { behaviourChecks, flipHorizontal, scaleBrightness, type PredictPixels } from '../../src/evaluation/index.js';

const size = 4;
const n = 40;
function makeInput() {
  const pixels = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + 11) % 256;
  const labels = new Uint8Array(n).map((_, i) => (i % 2 === 0 ? 1 : 0));
  const groups = Array.from(labels, (y, i) => (y ? 'cat' : ['dog', 'selfie', 'misc'][i % 3]));
  return { size, n, pixels, labels, groups };
}

/** Mean of the whole image: symmetric under flips; tuned so cats (even index) pass. */
function meanPredictor(labelsOf: Uint8Array): PredictPixels {
  return async (px, count, s) => {
    const out = new Float32Array(count);
    const per = s * s * 3;
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (let k = 0; k < per; k++) sum += px[i * per + k];
      out[i] = labelsOf[i] ? 0.8 + (sum / per / 255) * 0.01 : 0.2 - (sum / per / 255) * 0.01;
    }
    return out;
  };
}

describe('behaviour checks', () => {
  it('flip and brightness transforms are exact', () => {
    const px = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // one 2x2 image
    expect(Array.from(flipHorizontal(px, 1, 2))).toEqual([4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
    expect(Array.from(flipHorizontal(flipHorizontal(px, 1, 2), 1, 2))).toEqual(Array.from(px));
    expect(Array.from(scaleBrightness(new Uint8Array([0, 100, 250]), 1.1))).toEqual([0, 110, 255]);
  });

  it('passes a stable model', async () => {
    const input = makeInput();
    const r = await behaviourChecks(input, meanPredictor(input.labels), 0.5);
    expect(r.passed).toBe(true);
    expect(r.checks.find((c) => c.name === 'recall on cat')?.value).toBe(1);
  });

  it('fails a model that looks at the left half only (not flip invariant)', async () => {
    const input = makeInput();
    const leftHalf: PredictPixels = async (px, count, s) => {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = px[i * s * s * 3] / 255; // top-left pixel
      return out;
    };
    const r = await behaviourChecks(input, leftHalf, 0.5);
    expect(r.passed).toBe(false);
    const flip = r.checks.find((c) => c.name === 'horizontal flip: mean |delta p|')!;
    expect(flip.passed).toBe(false);
    expect(flip.value!).toBeGreaterThan(0.05);
  });

  it('fails minimum recall on a slice', async () => {
    const input = makeInput();
    const never: PredictPixels = async (_px, count) => new Float32Array(count).fill(0.1);
    const r = await behaviourChecks(input, never, 0.5, { minSliceRecall: 0.5 });
    const c = r.checks.find((x) => x.name === 'recall on cat')!;
    expect(c).toMatchObject({ passed: false, value: 0 });
    expect(r.passed).toBe(false);
  });

  it('rejects a predict function that returns the wrong count', async () => {
    const input = makeInput();
    await expect(behaviourChecks(input, async () => [0.5], 0.5)).rejects.toThrow(/returned 1 values for 40 images/);
  });
});
