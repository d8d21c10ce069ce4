import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContent, putContent } from '../../src/jobs/content-store.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import { loadModelBundle, modelBundle } from '../../src/model/bundle.js';
import { buildCnn, predictProbabilities, selectBackend, trainModel, type CnnHyperparameters } from '../../src/model/index.js';
import { startTestS3, type TestS3, s3Env } from '../helpers/s3-server.js';
import { generatedSplit } from '../model/fixtures.js';
import { imagesAsPhotos } from '../../src/model/photo-features.js';
import { HOME_AND_S3_ENV, saveEnv } from '../helpers/env.js';

// What a trial job is made of: bytes by content (inline, this machine's cache, S3), a model as one bundle, and
// training on a backbone from features computed elsewhere.
describe('jobs content store, model bundles, training on given features', () => {
  let tmp: string;
  let s3: TestS3;
  const restoreEnv = saveEnv(HOME_AND_S3_ENV);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-content-'));
    process.env.AREYOUACAT_HOME = tmp;
    s3 = await startTestS3('content');
    Object.assign(process.env, s3Env(s3));
    await selectBackend();
  }, 120_000);
  afterAll(async () => {
    await s3?.stop();
    restoreEnv();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('keeps bytes by content inline, on disk and on S3, and refuses bytes that do not match their name', async () => {
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251);
    const small = Uint8Array.from([1, 2, 3]);
    const inline = await putContent('s3', small);
    expect('inline' in inline).toBe(true);
    expect(await putContent('none', big)).toHaveProperty('inline');
    const disk = await putContent('disk', big);
    const remote = await putContent('s3', big);
    expect(disk).toEqual({ sha256: remote.sha256, size: big.length, store: 'disk' });
    expect(remote).toEqual({ sha256: disk.sha256, size: big.length, store: 's3' });
    expect((await s3.store.listKeys(s3.bucket, 'cache/content/')).map((o) => o.key)).toEqual([`cache/content/${remote.sha256}`]);
    for (const ref of [inline, disk, remote]) expect(Buffer.from(await getContent(ref)).equals(Buffer.from(ref === inline ? small : big))).toBe(true);
    // Putting the same bytes again is harmless; a name that is not there, or bytes that do not match it, fail.
    await putContent('s3', big);
    await expect(getContent({ sha256: '0'.repeat(64), size: 1, store: 's3' })).rejects.toThrow(/not in s3:/);
    await expect(getContent({ sha256: '1'.repeat(64), size: 1, store: 'disk' })).rejects.toThrow(/not in this machine's cache/);
    await expect(getContent({ sha256: disk.sha256, size: 14, inline: Buffer.from('something else').toString('base64') })).rejects.toThrow(/do not match their name/);
  }, 120_000);

  it('sends a model as one bundle and loads it back predicting the same', async () => {
    const hp: CnnHyperparameters = { imageSize: 32, convBlocks: 2, filters: 4, kernelSize: 3, batchNorm: false, dropout: 0, denseUnits: 8, learningRate: 1e-3, batchSize: 8, augmentation: false, backbone: null };
    const model = buildCnn(hp, 3);
    const images = generatedSplit(5, 32, 4);
    const back = await loadModelBundle(await modelBundle(model, { imageSize: 32 }));
    expect(Array.from(await predictProbabilities(back, images))).toEqual(Array.from(await predictProbabilities(model, images)));
    model.dispose();
    back.dispose();
  }, 120_000);

  it('trains the head on given backbone features exactly as on features it computes itself', async () => {
    const hp: CnnHyperparameters = { imageSize: 64, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0.2, denseUnits: 16, learningRate: 3e-3, batchSize: 8, augmentation: { flip: true }, backbone: 'coco-centernet' };
    const train = generatedSplit(12, 64, 5);
    const generatedVal = generatedSplit(6, 64, 6);
    const val = { ...generatedVal, paths: generatedVal.paths.map((p) => `val/${p}`) };
    const opts = { epochs: 2, seed: 4 };
    const photos = (s: typeof train) => imagesAsPhotos(s);
    const own = await trainModel(hp, train, val, { ...opts, photos: (item) => (item.path.startsWith('val/') ? photos(val) : photos(train))(item) });
    const features = {
      train: [await imageFeatures(train, { backbone: 'coco-centernet', photos: photos(train) }), await imageFeatures(train, { backbone: 'coco-centernet', flip: true, photos: photos(train) })],
      val: await imageFeatures(val, { backbone: 'coco-centernet', photos: photos(val) }),
      valMirrored: await imageFeatures(val, { backbone: 'coco-centernet', flip: true, photos: photos(val) }),
    };
    const labelsOnly = (s: typeof train) => ({ ...s, pixels: new Uint8Array(0) });
    const given = await trainModel(hp, labelsOnly(train), labelsOnly(val), { ...opts, features });
    const strip = (h: typeof own.history) => h.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);
    expect(strip(given.history)).toEqual(strip(own.history));
    await expect(trainModel(hp, labelsOnly(train), labelsOnly(val), { ...opts, features: { ...features, val: { ...features.val, n: 5 } } })).rejects.toThrow(/5 feature rows for 6 images/);
    own.model.dispose();
    given.model.dispose();
  }, 300_000);
});
