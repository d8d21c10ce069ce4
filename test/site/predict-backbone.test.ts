import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { buildSite, CHROMIUM, launchBrowser, offOrigin, SCREENSHOTS, serveSite, watchPage } from './harness.js';
import { catsV1Dir, catsV1Splits } from '../model/fixtures.js';
import { buildCnn, predictProbabilities, saveModel, selectBackend, trainModel, type CnnHyperparameters } from '../../src/model/index.js';
import { promote, registerModel } from '../../src/registry/index.js';

const PREFIX = '/reports';
const haveChromium = await fs.access(CHROMIUM).then(() => true, () => false);
const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveChromium) console.warn(`backbone predict page test skipped: no Chromium at ${CHROMIUM}`);
if (!haveCats) console.warn(`backbone predict page test skipped: cats-v1 not found at ${catsV1Dir()} (set AREYOUACAT_CATS_V1)`);

const hp: CnnHyperparameters = {
  imageSize: 128, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0.2, denseUnits: 32,
  learningRate: 3e-3, batchSize: 16, augmentation: { flip: true }, backbone: 'coco-centernet',
};

describe.skipIf(!haveChromium || !haveCats)('predict page with a pretrained-backbone model', () => {
  let tmp: string;
  let server: Awaited<ReturnType<typeof serveSite>>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let catPhoto: string;
  let dogPhoto: string;
  let nodeProbs: { cat: number; dog: number };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-backbone-site-'));
    const home = path.join(tmp, 'home');
    process.env.AREYOUACAT_HOME = home;
    await selectBackend();
    const splits = (await catsV1Splits(12, hp.imageSize))!;
    const result = await trainModel(hp, splits.train, splits.val, { epochs: 12, seed: 1, classWeight: 'balanced', model: buildCnn(hp, 1) });
    const modelDir = path.join(tmp, 'model');
    await saveModel(result.model, modelDir, { imageSize: hp.imageSize });
    const v = await registerModel({
      modelDir, runId: null, dataset: { name: 'cats-v1-subset', manifestHash: 'test' }, threshold: 0.5, thresholdStrategy: 'fixed:0.5', imageSize: hp.imageSize,
      metrics: { precision: 1, recall: 1, f1: 1, accuracy: 1, rocAuc: null, prAuc: null },
    });
    await promote(v.version, { user: 'test', force: true, reason: 'backbone predict page test' });
    // Validation photos (not trained on); what the model says in Node is what the page must say.
    const at = (g: string) => splits.val.groups.indexOf(g);
    catPhoto = path.join(catsV1Dir(), splits.val.paths[at('cat')]);
    dogPhoto = path.join(catsV1Dir(), splits.val.paths[at('dog')]);
    const probs = await predictProbabilities(result.model, splits.val);
    nodeProbs = { cat: probs[at('cat')], dog: probs[at('dog')] };
    result.model.dispose();

    const out = path.join(tmp, 'site');
    await buildSite(home, out);
    server = await serveSite(out, PREFIX);
    ({ browser, close: closeBrowser } = await launchBrowser());
    await fs.mkdir(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('loads the backbone shipped with the model and predicts what Node predicts', async () => {
    const page = await browser.newPage();
    const log = watchPage(page);
    await page.goto(`${server.origin}${PREFIX}/predict`, { waitUntil: 'networkidle' });
    await page.locator('.predict-status', { hasText: 'ready' }).waitFor({ timeout: 120_000 });
    const probabilityOf = async (file: string) => {
      await page.setInputFiles('#photo-input', file);
      await page.locator('.predict-output [data-probability]').waitFor({ timeout: 180_000 });
      const p = Number(await page.locator('.predict-output [data-probability]').getAttribute('data-probability'));
      expect(await page.locator('canvas.heatmap[data-heatmap="drawn"]').count()).toBe(1);
      return p;
    };
    const dog = await probabilityOf(dogPhoto);
    const cat = await probabilityOf(catPhoto);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'predict-backbone.png'), fullPage: true });
    console.log('backbone model p(cat): browser cat', cat.toFixed(4), 'dog', dog.toFixed(4), '| node cat', nodeProbs.cat.toFixed(4), 'dog', nodeProbs.dog.toFixed(4));
    expect(await page.locator('.predict-output', { hasText: '4×4 cells' }).count()).toBe(1);
    // The browser resizes with its own Lanczos-3 (within a grey level of sharp's), so allow a small difference.
    expect(Math.abs(cat - nodeProbs.cat)).toBeLessThan(0.05);
    expect(Math.abs(dog - nodeProbs.dog)).toBeLessThan(0.05);
    expect(log.errors).toEqual([]);
    expect(offOrigin(log.requests, server.origin)).toEqual([]);
    await page.close();
  }, 600_000);
});
