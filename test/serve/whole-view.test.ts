import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/io.js';
import { predictPhotoViews } from '../../src/model/predict.js';
import { prepareUpload } from '../../src/serve/image-input.js';
import { parseInferRequest, tensorMetadata } from '../../src/serve/open-inference-tensors.js';
import { loadTfjsServingModel } from '../../src/serve/tfjs-model.js';
import type { PromotedModel } from '../../src/registry/types.js';
import { registerTestModel } from './helpers/model-fixture.js';
import { useTempHome } from './helpers/server-fixture.js';

const SIZE = 64;
let home: Awaited<ReturnType<typeof useTempHome>>;
let promoted: PromotedModel;

async function photo(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * (seed + 7) + Math.floor(i / (width * 3)) * 13) % 251;
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

beforeAll(async () => {
  home = await useTempHome('whole-view');
  promoted = await registerTestModel({ tmp: home.home, imageSize: SIZE, seed: 4, backbone: 'coco-centernet' });
}, 120_000);
afterAll(async () => {
  await home?.restore();
});

describe('serving a backbone model on whole views', () => {
  it('prepares an upload as its whole view and answers what the model API answers for it, in workers and inline', async () => {
    const wide = await prepareUpload(await photo(400, 200, 1), SIZE, 1e7, true);
    const tall = await prepareUpload(await photo(150, 240, 2), SIZE, 1e7, true);
    const square = await prepareUpload(await photo(300, 300, 3), SIZE, 1e7, true);
    expect([wide.view, tall.view, square.view]).toEqual([{ width: 128, height: 64 }, { width: 64, height: 96 }, { width: 64, height: 64 }]);
    expect((await prepareUpload(await photo(400, 200, 1), SIZE, 1e7)).view).toEqual({ width: 64, height: 64 }); // a CNN's square
    const model = await loadModel(promoted.dir);
    const expected = await Promise.all([wide, tall, square].map(async (v) => (await predictPhotoViews(model, [{ ...v.view, pixels: v.pixels }]))[0]));
    model.dispose();
    for (const workers of [0, 1]) {
      const serving = await loadTfjsServingModel(promoted, { workers });
      try {
        expect(serving.wholeView).toBe(true);
        // submitted together: one batch of three shapes, run shape by shape
        const got = await Promise.all([wide, tall, square].map((v) => serving.predict(v.pixels, v.view)));
        got.forEach((p, i) => expect(Math.abs(p - expected[i])).toBeLessThan(1e-5));
        await expect(serving.predict(new Uint8Array(100 * 64 * 3), { width: 100, height: 64 })).rejects.toThrow(/whole views with a shorter side of 64/);
      } finally {
        serving.dispose();
      }
    }
  }, 240_000);

  it('Open Inference: pixels of a whole-view shape for a backbone model, squares only for a CNN', () => {
    const body = (h: number, w: number) => ({ inputs: [{ name: 'pixels', shape: [1, h, w, 3], datatype: 'FP32', data: new Array(h * w * 3).fill(7) }] });
    const opts = { imageSize: SIZE, maxBatch: 8, maxImageBytes: 1e6 };
    const ok = parseInferRequest(body(64, 128), { ...opts, wholeView: true });
    expect(ok.input.kind === 'pixels' && ok.input.view).toEqual({ width: 128, height: 64 });
    expect(() => parseInferRequest(body(64, 100), { ...opts, wholeView: true })).toThrow(/whole view \[N, H, W, 3\]/);
    expect(() => parseInferRequest(body(64, 128), opts)).toThrow(/shape must be \[N, 64, 64, 3\] \(got/);
    expect(tensorMetadata(SIZE, true).inputs[1].shape).toEqual([-1, -1, -1, 3]);
    expect(tensorMetadata(SIZE).inputs[1].shape).toEqual([-1, 64, 64, 3]);
  });
});
