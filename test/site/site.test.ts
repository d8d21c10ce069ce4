import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { buildSiteFixture, type SiteFixture } from './fixture.js';
import { writeMonitoringFixture } from './monitoring-fixture.js';
import { buildSite, chartsDrawn, CHROMIUM, launchBrowser, offOrigin, recordGrids, SCREENSHOTS, serveSite, STUB_PREDICTION, watchPage } from './harness.js';
import { getRun } from '../../src/tracking/runs.js';
import { writeJsonAtomic } from '../../src/storage/atomic.js';
import { startServer } from '../../src/serve/server.js';
import { startTestS3 } from '../helpers/s3-server.js';

const PREFIX = '/reports';
const haveChromium = await fs.access(CHROMIUM).then(() => true, () => false);
if (!haveChromium) console.warn(`site browser tests skipped: no Chromium at ${CHROMIUM} (install the Debian package "chromium")`);

describe.skipIf(!haveChromium)('report site in a browser', () => {
  let tmp: string;
  let fixture: SiteFixture;
  let out: string;
  let server: Awaited<ReturnType<typeof serveSite>>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-site-'));
    ({ browser, close: closeBrowser } = await launchBrowser());
    fixture = await buildSiteFixture(path.join(tmp, 'home'));
    await writeMonitoringFixture();
    out = path.join(tmp, 'site');
    await buildSite(fixture.home, out);
    server = await serveSite(out, PREFIX);
    await fs.mkdir(SCREENSHOTS, { recursive: true });
  }, 900_000);

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Open a page of the site, wait for its charts, screenshot it, and check it stayed on its origin error-free. */
  async function visit(rel: string, shot: string): Promise<{ page: Page; charts: number; text: string }> {
    const page = await browser.newPage();
    const log = watchPage(page);
    await page.goto(`${server.origin}${PREFIX}/${rel}`, { waitUntil: 'networkidle' });
    const charts = await chartsDrawn(page);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    expect(log.errors, `errors on ${rel}`).toEqual([]);
    expect(offOrigin(log.requests, server.origin), `requests leaving the site from ${rel}`).toEqual([]);
    return { page, charts, text: await page.locator('main').innerText() };
  }

  it('overview shows the promoted model, latest runs and gate decisions', async () => {
    const { page, text } = await visit('', 'overview');
    expect(text).toContain('Promoted model: version 1');
    expect(text).toContain('fixture training');
    expect(text).toMatch(/rollback/);
    expect(text).toContain('v2 misbehaved');
    await page.close();
  });

  it('runs list links every run', async () => {
    const { page, text } = await visit('runs/', 'runs');
    expect(text).toContain('fixture training');
    expect(text).toContain('fixture study');
    expect(await page.locator(`a[href="./${fixture.trainingRunId}"]`).count()).toBe(1);
    await page.close();
  });

  it('a training run page draws curves, confusion matrix, ROC/PR, calibration, trade-off and slices', async () => {
    const { page, charts, text } = await visit(`runs/${fixture.trainingRunId}`, 'run-training');
    expect(charts).toBeGreaterThanOrEqual(8);
    for (const heading of ['Learning curves', 'Confusion matrix', 'ROC and precision-recall curves', 'Calibration', 'Threshold trade-off', 'Per-group slices', 'Error gallery']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('learningRate');
    await page.close();
  });

  it('a tuning study page plots score against each hyperparameter', async () => {
    const { page, charts, text } = await visit(`runs/${fixture.studyRunId}`, 'run-study');
    expect(text).toContain('Tuning trials (3)');
    expect(charts).toBe(2); // learningRate and filters vary across trials
    await page.close();
  });

  it('validation page shows every check with evidence, distributions and thumbnails', async () => {
    const { page, charts, text } = await visit('validation', 'validation');
    for (const id of ['integrity', 'group-balance', 'split-leakage', 'property-outliers', 'label-errors']) expect(text).toContain(`(${id})`);
    expect(charts).toBeGreaterThanOrEqual(8); // one distribution chart per property
    expect(await page.locator('.gallery img').count()).toBeGreaterThan(0);
    // Evidence in words; the internal field names only in the folded raw details.
    expect(text).toContain('rejected files');
    expect(await page.locator('.check-facts dt', { hasText: 'rejected files' }).first().innerText()).toBe('rejected files');
    for (const internal of ['problemFraction', 'rejectedByReason', 'clusterCount', 'labelShare']) expect(text).not.toContain(internal);
    expect(await page.locator('details.check-raw:not([open])').count()).toBeGreaterThanOrEqual(5);
    // Checks with a distribution lead with a chart: the group mix per split, the drift per property.
    for (const id of ['group-balance', 'property-drift']) expect(await page.locator(`#check-fixture-${id} > .vl-chart svg`).count(), id).toBe(1);
    await page.close();
  });

  it('registry page lists versions, promotions and the rollback with its reason', async () => {
    const { page, charts, text } = await visit('registry', 'registry');
    expect(text).toContain('Versions (2)');
    expect(text).toContain('fixture: v2 misbehaved in production');
    // The promoted version's model card.
    expect(text).toContain('Model card: version 1');
    for (const heading of ['Intended use', 'Training data', 'Evaluation per group', 'Known failure modes', 'Threshold']) expect(text).toContain(heading);
    expect(charts).toBe(1);
    await page.close();
  });

  it('monitoring page shows the alert banner, drift table, prediction shift chart, feedback and serving', async () => {
    const { page, text } = await visit('monitoring', 'monitoring');
    expect(await page.locator('.monitoring-alert').count()).toBe(1);
    expect(text).toMatch(/ALERT: \d+ critical alerts/);
    expect(text).toContain('feedback:precision');
    expect(text).toContain('real-world precision 0.25 from 12 answers is below 0.8');
    expect(text).toContain('model version 1');
    for (const heading of ['Input drift', 'Prediction shift', 'Real-world precision and recall (feedback)', 'Serving', 'Over time']) {
      expect(text).toContain(heading);
    }
    expect(await page.locator('.monitoring-drift tr.drift-alert', { hasText: 'width' }).count()).toBe(1);
    expect(await page.locator('.monitoring-serving [data-status="unavailable"]').count()).toBe(1);
    expect(text).toContain('no server metrics');
    // The reference vs current histogram is drawn: one bar per bin and series.
    await expect.poll(() => page.locator('.monitoring-predictions .vl-chart svg').count()).toBe(1);
    expect(await page.locator('.monitoring-predictions .vl-chart svg path[aria-roledescription="bar"]').count()).toBe(20);
    await expect.poll(() => page.locator('.monitoring-predictions .vl-chart svg, .monitoring-days .vl-chart svg').count()).toBe(3); // and the two daily charts
    // Served as static files: the saved report, said so with its time.
    expect(await page.locator('.monitoring').getAttribute('data-source')).toBe('file');
    // The minute-by-minute serving history comes only from a running server.
    expect(await page.locator('.monitoring-history').count()).toBe(0);
    expect(await page.locator('.monitoring-source').innerText()).toMatch(/The last saved report \(made \d{4}-\d\d-\d\d/);
    await page.close();
  });

  it('monitoring page served by the server shows live numbers that change without a rebuild', async () => {
    const s3 = await startTestS3('site-live');
    const srv = await startServer({ port: 0, siteRoot: out, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, log: () => undefined });
    try {
      const page = await browser.newPage();
      const log = watchPage(page);
      await page.goto(`${srv.url}/monitoring`, { waitUntil: 'networkidle' });
      await page.locator('.monitoring[data-source="server"]').waitFor();
      const predictions = async () => Number(await page.locator('.monitoring-hours [data-predictions]').getAttribute('data-predictions').catch(() => '0'));
      const answers = async () => Number(await page.locator('.monitoring-feedback').getAttribute('data-answers'));
      const historyCount = async (attr: string) => Number(await page.locator('.monitoring-history').getAttribute(attr));
      const before = { predictions: await predictions(), answers: await answers(), errors4xx: await historyCount('data-errors-4xx'), requests: await historyCount('data-requests') };
      const photo = await fs.readFile(fixture.catPhoto);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photo) });
        expect(res.status).toBe(200);
      }
      // Two failing requests: photos that are not images are refused with a client error.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photo.subarray(0, 200)) });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      const form = new FormData();
      form.append('photo', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
      for (const [k, v] of Object.entries({ prediction: 'cat', answer: 'cat', probability: '0.9', modelVersion: '1', consent: 'true' })) form.append(k, v);
      expect((await fetch(`${srv.url}/api/feedback`, { method: 'POST', body: form })).status).toBeLessThan(300);
      // The page refreshes itself (every 30 s; the server caches its report for 10 s): wait for the new numbers.
      await page.waitForFunction((n) => Number(document.querySelector('.monitoring-hours [data-predictions]')?.getAttribute('data-predictions')) >= n, before.predictions + 3);
      await page.waitForFunction((n) => Number(document.querySelector('.monitoring-feedback')?.getAttribute('data-answers')) >= n, before.answers + 1);
      // The error-rate chart of the serving history shows the two client errors.
      await page.waitForFunction((n) => Number(document.querySelector('.monitoring-history .serving-error-rate')?.getAttribute('data-errors-4xx')) >= n, before.errors4xx + 2);
      expect(await predictions()).toBe(before.predictions + 3);
      expect(await answers()).toBe(before.answers + 1);
      const errorChart = page.locator('.monitoring-history .serving-error-rate');
      expect(Number(await errorChart.getAttribute('data-errors-4xx'))).toBe(before.errors4xx + 2);
      expect(Number(await errorChart.getAttribute('data-errors-5xx'))).toBe(0);
      // 5 predict requests and a feedback, besides the page's own reads of /api/monitoring.
      expect(Number(await errorChart.getAttribute('data-requests'))).toBeGreaterThanOrEqual(before.requests + 6);
      const historyText = await page.locator('.monitoring-history').innerText();
      expect(historyText).toContain(`${before.errors4xx + 2} with a client error such as an unreadable photo`);
      for (const internal of ['errors4xx', 'errors5xx', 'p50Ms', 'bucketSeconds']) expect(historyText).not.toContain(internal);
      expect(await page.locator('.monitoring-source').innerText()).toContain('Live from the server');
      // The report's serving section has the server's own numbers (not "unavailable: give --url").
      const serving = page.locator('.monitoring-serving');
      expect(await serving.getAttribute('data-source')).toBe('server');
      expect(await serving.locator('[data-status="unavailable"]').count()).toBe(0);
      expect(await serving.innerText()).not.toContain('--url');
      expect(Number(await serving.getAttribute('data-requests'))).toBeGreaterThanOrEqual(1);
      // The minute in progress is marked, and drawn as a hollow point of its own, not as the end of the rate line.
      const rateChart = page.locator('.monitoring-history [data-chart="request-rate"]');
      expect(await rateChart.getAttribute('data-partial-minute')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
      expect(await rateChart.innerText()).toContain('The minute in progress is a hollow point');
      await chartsDrawn(page);
      expect(await rateChart.locator('svg .mark-symbol path[stroke-dasharray]').count()).toBe(2); // requests and predictions
      expect(await page.locator('.monitoring-hours .vl-chart svg').count()).toBe(2);
      // Request rate, latency percentiles and error rate, each drawn.
      for (const chart of ['request-rate', 'latency', 'error-rate']) expect(await page.locator(`.monitoring-history [data-chart="${chart}"] .vl-chart svg`).count(), chart).toBe(1);
      expect(await page.locator('.monitoring-history [data-chart="error-rate"] svg .mark-line path').count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'monitoring-live.png'), fullPage: true });
      await page.locator('.monitoring-history').screenshot({ path: path.join(SCREENSHOTS, 'monitoring-live-history.png') });
      expect(log.errors).toEqual([]);
      expect(offOrigin(log.requests, srv.url)).toEqual([]);
      await page.close();
    } finally {
      await srv.close();
      await s3.stop();
    }
  }, 600_000);

  it('predict page runs the promoted model in the browser: cat above non-cat, heatmap, feedback with consent', async () => {
    const { page } = await visit('predict', 'predict-empty');
    await page.locator('.predict-status', { hasText: 'ready' }).waitFor();
    const probabilityOf = async (file: string) => {
      await page.setInputFiles('#photo-input', file);
      await page.locator(`.predict-output [data-probability]`).waitFor();
      const p = Number(await page.locator('.predict-output [data-probability]').getAttribute('data-probability'));
      // The answer comes first; the explanation is refined after it.
      await page.locator('.predict-explain[data-state="done"]').waitFor();
      expect(await page.locator('canvas.heatmap[data-heatmap="drawn"]').count()).toBe(1);
      return p;
    };
    const other = await probabilityOf(fixture.otherPhoto);
    const cat = await probabilityOf(fixture.catPhoto);
    expect(cat).toBeGreaterThan(other);
    expect(cat).toBeGreaterThan(0.5);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'predict.png'), fullPage: true });

    // The test server answers /api/health, so the page offers feedback; nothing is sent without consent.
    const yes = page.getByRole('button', { name: 'Yes, that is right' });
    await yes.waitFor();
    expect(await yes.isDisabled()).toBe(true);
    await page.locator('#feedback-consent').check();
    await yes.click();
    await page.locator('.feedback-status', { hasText: 'Thank you' }).waitFor();
    expect(server.feedback).toHaveLength(1);
    const { fields, photo } = server.feedback[0];
    expect(fields).toMatchObject({ modelVersion: '1', prediction: 'cat', answer: 'cat', consent: 'true' });
    expect(Number(fields.probability)).toBeCloseTo(cat, 6);
    expect(photo.mimeType).toBe('image/jpeg');
    expect(photo.bytes).toBeGreaterThan(500);
    // "No, that is wrong" sends the other answer.
    await page.getByRole('button', { name: 'No, that is wrong' }).click();
    await expect.poll(() => server.feedback.length).toBe(2);
    expect(server.feedback[1].fields).toMatchObject({ prediction: 'cat', answer: 'not-cat' });
    // This model has no pretrained backbone, so it cannot keep numbers instead of the photo: the page offers only
    // "Keep my photo" and says why (a backbone model's page offers both, numbers only first).
    expect(server.feedback[0].fields.store).toBe('photo');
    expect(await page.locator('.feedback-store').innerText()).toMatch(/Keep my photo[\s\S]*trained from scratch/);
    expect(await page.locator('#feedback-store-features').count()).toBe(0);
    await yes.click();
    await expect.poll(() => server.feedback.length).toBe(3);
    expect(server.feedback[2].fields).toMatchObject({ store: 'photo', answer: 'cat' });
    await page.locator('.feedback-status', { hasText: 'your photo were recorded' }).waitFor();
    await page.close();
  });

  it('predict page answers first in an aria-live region, then refines the explanation; wasm from the site; samples, paste, drop, keyboard, server compare', async () => {
    const page = await browser.newPage();
    const log = watchPage(page);
    await page.goto(`${server.origin}${PREFIX}/predict`, { waitUntil: 'networkidle' });
    await page.locator('.predict-status', { hasText: 'ready' }).waitFor();
    // Headless Chromium without a GPU has only software WebGL: the page picks the WebAssembly backend and says so.
    expect(await page.locator('.predict-backend').getAttribute('data-backend')).toBe('wasm');
    expect(await page.locator('.predict-backend').innerText()).toContain('WebAssembly');
    const wasmFetched = log.requests.filter((u) => /\.wasm(\?|$)/.test(new URL(u).pathname + new URL(u).search));
    expect(wasmFetched.length).toBeGreaterThan(0);
    for (const u of wasmFetched) expect(new URL(u).origin).toBe(server.origin);

    const live = page.locator('[aria-live="polite"][role="status"].predict-answer');
    expect(await live.count()).toBe(1);
    const grids = await recordGrids(page);
    const t0 = Date.now();
    await page.setInputFiles('#photo-input', fixture.catPhoto);
    await live.locator('[data-probability]').waitFor();
    const answerMs = Date.now() - t0;
    expect(await live.innerText()).toMatch(/P\(cat\) = [\d.]+ (a cat|not a cat)/);
    await page.locator('.predict-explain[data-state="done"]').waitFor();
    console.log(`predict page (fixture CNN): answer ${answerMs} ms, finished heatmap ${Date.now() - t0} ms, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    expect(await grids()).toEqual(['4', '8']);
    expect(await page.locator('.predict-progress progress').isHidden()).toBe(true);

    // A sample photo of the test split, tried from the keyboard.
    const samples = page.getByRole('group', { name: 'Sample photos from the test split' }).getByRole('button');
    expect(await samples.count()).toBeGreaterThanOrEqual(4);
    const first = page.getByRole('button', { name: /^Try sample 1: a cat photo$/ });
    await first.focus();
    await page.keyboard.press('Enter');
    await live.locator('[data-probability]').waitFor();
    await page.locator('.predict-explain[data-state="done"]').waitFor();
    const sampleP = Number(await live.locator('[data-probability]').getAttribute('data-probability'));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'predict-sample.png'), fullPage: true });

    // Paste and drop: the same photo through the clipboard and a drop on the drop zone gives the same answer.
    for (const how of ['paste', 'drop'] as const) {
      await page.evaluate(() => document.querySelector('.predict-answer')!.replaceChildren());
      await page.evaluate(async (how) => {
        const src = document.querySelector<HTMLImageElement>('button.sample img')!.src;
        const file = new File([await (await fetch(src)).blob()], 'photo.jpg', { type: 'image/jpeg' });
        const dt = new DataTransfer();
        dt.items.add(file);
        if (how === 'paste') document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
        else document.querySelector('.dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, how);
      await live.locator('[data-probability]').waitFor();
      expect(Number(await live.locator('[data-probability]').getAttribute('data-probability')), how).toBeCloseTo(sampleP, 5);
    }
    // Every control has a name.
    for (const label of ['Choose a photo:', 'or take one:']) expect(await page.getByLabel(label).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Drop a photo here/ }).getAttribute('tabindex')).toBe('0');

    // Served with an /api/predict: the same photo goes to the server and its answer is shown next to the browser's.
    await page.getByRole('button', { name: 'Ask the server too' }).click();
    await page.locator('.server-answer[data-server-probability]').waitFor();
    expect(Number(await page.locator('.server-answer').getAttribute('data-server-probability'))).toBe(STUB_PREDICTION.probability);
    expect(await page.locator('.server-answer').innerText()).toContain('Server: P(cat) = 0.250, not a cat');
    expect(server.predictions).toHaveLength(1);
    expect(server.predictions[0].bytes).toBeGreaterThan(500);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'predict-server.png'), fullPage: true });
    expect(log.errors).toEqual([]);
    expect(offOrigin(log.requests, server.origin)).toEqual([]);
    await page.close();
  });

  it('a rebuild shows changed data, not the cached loader output', async () => {
    const run = (await getRun(fixture.trainingRunId))!;
    const file = path.join(run.dir, 'run.json');
    const rec = JSON.parse(await fs.readFile(file, 'utf8'));
    rec.name = 'fixture training, re-evaluated';
    rec.metrics.test_f1 = 0.4321;
    await writeJsonAtomic(file, rec);
    const log = await buildSite(fixture.home, out);
    expect(log).toContain('reloading');
    const page = await browser.newPage();
    await page.goto(`${server.origin}${PREFIX}/runs/${fixture.trainingRunId}`, { waitUntil: 'networkidle' });
    // Wait for the rendered numbers themselves (a slow machine may draw the cards before the metrics).
    await page.locator('.kv').first().waitFor();
    await page.locator('main', { hasText: '0.432' }).waitFor();
    expect(await page.locator('main').innerText()).toContain('0.432');
    await page.goto(`${server.origin}${PREFIX}/runs/`, { waitUntil: 'networkidle' });
    await page.locator('table').first().waitFor();
    await page.locator('main', { hasText: 'fixture training, re-evaluated' }).waitFor();
    expect(await page.locator('main').innerText()).toContain('fixture training, re-evaluated');
    await page.close();
  }, 600_000);

  it('with an empty data directory every page says there is no data yet', async () => {
    const emptyHome = path.join(tmp, 'empty-home');
    const emptyOut = path.join(tmp, 'empty-site');
    await fs.mkdir(emptyHome, { recursive: true });
    await buildSite(emptyHome, emptyOut);
    const empty = await serveSite(emptyOut, '/');
    try {
      for (const rel of ['', 'runs/', 'validation', 'registry', 'monitoring', 'predict']) {
        const page = await browser.newPage();
        const log = watchPage(page);
        await page.goto(`${empty.origin}/${rel}`, { waitUntil: 'networkidle' });
        await page.locator('.empty-state').first().waitFor();
        expect(await page.locator('main').innerText(), rel).toContain('areyouacat pipeline deploy');
        expect(log.errors, rel).toEqual([]);
        expect(offOrigin(log.requests, empty.origin)).toEqual([]);
        if (rel === '') await page.screenshot({ path: path.join(SCREENSHOTS, 'overview-empty.png'), fullPage: true });
        await page.close();
      }
    } finally {
      await empty.close();
    }
  }, 600_000);
});
