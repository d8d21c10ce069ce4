import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { buildSite, CHROMIUM, launchBrowser, offOrigin, recordGrids, SCREENSHOTS, serveSite, watchPage } from './harness.js';
import { catsV1Dir, catsV1Splits } from '../model/fixtures.js';
import sharp from 'sharp';
import { buildCnn, predictProbabilities, saveModel, selectBackend, trainModel, type CnnHyperparameters } from '../../src/model/index.js';
import { photoWholeView } from '../../src/model/photo-features.js';
import { predictPhotoViews } from '../../src/model/predict.js';
import { prepareImage } from '../../src/data/prepare.js';
import { promote, registerModel } from '../../src/registry/index.js';

const PREFIX = '/reports';
const haveChromium = await fs.access(CHROMIUM).then(() => true, () => false);
const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveChromium) console.warn(`backbone predict page test skipped: no Chromium at ${CHROMIUM}`);
if (!haveCats) console.warn(`backbone predict page test skipped: cats-v1 not found at ${catsV1Dir()} (set AREYOUACAT_CATS_V1)`);

const base: CnnHyperparameters = {
  imageSize: 128, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0.2, denseUnits: 32,
  learningRate: 3e-3, batchSize: 16, augmentation: { flip: true }, backbone: 'coco-centernet',
};

// Each backbone the page can run: the COCO detector's graph, and the ImageNet classifier (Keras layers, pulled
// into the model cache from the mirror). The browser's resize now gives sharp's bytes (test/site/resize-like-sharp),
// and the measured P(cat) agree to the 4 decimals printed on both backbones (before: 0.001-0.009 COCO, 0.001-0.027
// ImageNet); the tolerance leaves room for the backends' float arithmetic (WASM/WebGL in Chromium, tfjs-node).
const cases = [
  { backbone: 'coco-centernet', tolerance: 0.02, screenshot: 'predict-backbone' },
  { backbone: 'imagenet-mobilenet-v1', tolerance: 0.02, screenshot: 'predict-imagenet' },
];

describe.skipIf(!haveChromium || !haveCats).each(cases)('predict page with a model on the $backbone backbone', ({ backbone, tolerance, screenshot }) => {
  const hp: CnnHyperparameters = { ...base, backbone };
  let tmp: string;
  let server: Awaited<ReturnType<typeof serveSite>>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let catPhoto: string;
  let dogPhoto: string;
  let nodeProbs: { cat: number; dog: number; wide: number; wideSquare: number };
  let widePhoto: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-backbone-site-'));
    const home = path.join(tmp, 'home');
    process.env.AREYOUACAT_HOME = home;
    await selectBackend();
    const splits = (await catsV1Splits(12, hp.imageSize))!;
    const photos = ({ path: p }: { path: string }) => fs.readFile(path.join(catsV1Dir(), p));
    const result = await trainModel(hp, splits.train, splits.val, { epochs: 12, seed: 1, classWeight: 'balanced', model: buildCnn(hp, 1), photos });
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
    const probs = await predictProbabilities(result.model, splits.val, 64, { photos });
    // The wide photo: a validation cat (the one the model is surest of) at the left edge of a 2:1 scene made
    // of a misc photo; the centre square of that photo does not contain the cat, the whole view does.
    const cats = splits.val.groups.flatMap((g, i) => (g === 'cat' ? [i] : []));
    const surest = cats.reduce((a, b) => (probs[b] > probs[a] ? b : a));
    const cat = await sharp(path.join(catsV1Dir(), splits.val.paths[surest])).resize(128, 128, { fit: 'cover' }).toBuffer();
    widePhoto = path.join(tmp, 'wide-cat.jpg');
    await sharp(path.join(catsV1Dir(), splits.val.paths[at('misc')])).resize(512, 256, { fit: 'fill' })
      .composite([{ input: cat, left: 0, top: 64 }]).jpeg({ quality: 92 }).toFile(widePhoto);
    const wideBytes = await fs.readFile(widePhoto);
    const [wide] = await predictPhotoViews(result.model, [await photoWholeView(wideBytes, hp.imageSize)]);
    const [wideSquare] = await predictPhotoViews(result.model, [{ width: hp.imageSize, height: hp.imageSize, pixels: await prepareImage(wideBytes, hp.imageSize) }]);
    nodeProbs = { cat: probs[at('cat')], dog: probs[at('dog')], wide, wideSquare };
    console.log(`wide photo, cat at the left edge: node P(cat) whole view ${wide.toFixed(4)}, centre square ${wideSquare.toFixed(4)}`);
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
    await page.locator('.predict-status', { hasText: 'ready' }).waitFor();
    const probabilityOf = async (file: string) => {
      await page.setInputFiles('#photo-input', file);
      await page.locator('.predict-output .prob[data-probability]').waitFor();
      const p = Number(await page.locator('.predict-output .prob[data-probability]').getAttribute('data-probability'));
      await page.locator('.predict-explain[data-state="done"]').waitFor();
      expect(await page.locator('canvas.heatmap[data-heatmap="drawn"]').count()).toBe(1);
      return p;
    };
    const dog = await probabilityOf(dogPhoto);
    const cat = await probabilityOf(catPhoto);
    // A backbone model's page offers both feedback choices (numbers only first) and says it was trained on photos.
    await page.locator('.feedback-store').waitFor();
    expect(await page.locator('.feedback-store').getAttribute('data-stores')).toBe('features photo');
    expect(await page.locator('#feedback-store-features').isChecked()).toBe(true);
    expect(await page.locator('.trained-on').getAttribute('data-synthetic')).toBe('false');
    await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshot}.png`), fullPage: true });
    expect(await page.locator('main').innerText()).not.toMatch(/\bnull\b|undefined/); // no sample row here: nothing in its place

    // Time to the answer and to the finished explanation, as a visitor waits for them (the model is loaded).
    const grids = await recordGrids(page);
    const t0 = Date.now();
    await page.setInputFiles('#photo-input', dogPhoto);
    await page.locator('.predict-answer[data-answer-ms] .prob[data-probability]').waitFor();
    const answerMs = Date.now() - t0;
    await page.locator('.predict-explain[data-state="done"]').waitFor();
    const heatmapMs = Date.now() - t0;
    console.log(`predict page, cats-v1 photo, backend ${await page.locator('.predict-backend').getAttribute('data-backend')}: ` +
      `answer ${answerMs} ms (in the page ${await page.locator('.predict-answer').getAttribute('data-answer-ms')} ms), finished heatmap ${heatmapMs} ms, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    expect(await grids()).toEqual(['4', '8']); // coarse first, then finer
    expect(Number(await page.locator('.predict-explain').getAttribute('data-done-ms'))).toBeGreaterThan(Number(await page.locator('.predict-answer').getAttribute('data-answer-ms')));

    // A new photo cancels the explanation of the previous one (its ~80 passes take seconds here). The page's main
    // thread is busy with those passes, so the second photo is dropped from inside the page the moment the first
    // answer shows, and the first explanation's final state is read there.
    await page.setInputFiles('#photo-input', catPhoto);
    const previousState = await page.evaluate(async (b64) => {
      const answer = document.querySelector<HTMLElement>('.predict-answer')!;
      const answered = () => answer.dataset.answerMs != null && answer.querySelector('[data-probability]') != null;
      if (!answered()) {
        await new Promise<void>((resolve) => {
          const obs = new MutationObserver(() => { if (answered()) { obs.disconnect(); resolve(); } });
          obs.observe(answer, { subtree: true, childList: true, attributes: true });
        });
      }
      const previous = document.querySelector<HTMLElement>('.predict-explain')!;
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'dog.jpg', { type: 'image/jpeg' }));
      document.querySelector('.dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      while (previous.dataset.state === 'refining') await new Promise((r) => setTimeout(r, 20));
      return previous.dataset.state;
    }, (await fs.readFile(dogPhoto)).toString('base64'));
    expect(previousState).toBe('cancelled');
    await page.locator('.predict-explain[data-state="done"]').waitFor();
    expect(Math.abs(Number(await page.locator('.predict-output .prob[data-probability]').getAttribute('data-probability')) - nodeProbs.dog)).toBeLessThan(tolerance);
    console.log('backbone model p(cat): browser cat', cat.toFixed(4), 'dog', dog.toFixed(4), '| node cat', nodeProbs.cat.toFixed(4), 'dog', nodeProbs.dog.toFixed(4));
    expect(await page.locator('.predict-output', { hasText: '4×4 cells' }).count()).toBe(1);
    // The browser resizes with its own Lanczos-3 (within a grey level of sharp's), so allow a small difference.
    expect(Math.abs(cat - nodeProbs.cat)).toBeLessThan(tolerance);
    expect(Math.abs(dog - nodeProbs.dog)).toBeLessThan(tolerance);

    // The wide photo: the whole view sees the cat the centre square misses, in Node and in the page alike.
    // In log-odds: a head trained on a few dozen photos is not calibrated, but the whole view must move it clearly towards cat.
    const logOdds = (p: number) => Math.log(p / (1 - p));
    if (backbone === 'coco-centernet') expect(logOdds(nodeProbs.wide) - logOdds(nodeProbs.wideSquare)).toBeGreaterThan(1.5);
    else console.log(`wide photo, ${backbone}: whole view ${nodeProbs.wide.toFixed(4)}, centre square ${nodeProbs.wideSquare.toFixed(4)}`);
    const wide = await probabilityOf(widePhoto);
    console.log('wide photo p(cat): browser', wide.toFixed(4), '| node', nodeProbs.wide.toFixed(4));
    expect(Math.abs(wide - nodeProbs.wide)).toBeLessThan(tolerance);
    expect(await page.locator('canvas.heatmap').getAttribute('data-view')).toBe(`${2 * hp.imageSize}x${hp.imageSize}`);
    const canvas = await page.locator('canvas.heatmap').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    expect(canvas).toEqual([320, 160]); // the heatmap covers the whole view
    await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshot}-wide.png`), fullPage: true });
    expect(log.errors).toEqual([]);
    expect(offOrigin(log.requests, server.origin)).toEqual([]);
    await page.close();
  }, 600_000);
});
