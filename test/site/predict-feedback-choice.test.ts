/**
 * Issue 26, defect 4 and the first run: on the model `npm start` promotes (a CNN trained from scratch on the
 * synthetic set, no pretrained backbone), the predict page offers only the feedback choice that model can take,
 * sends it and is thanked; a refusal shows the server's reason in words. The page also says what the model was
 * trained on and that it is a demonstration. The real site build, the real server (with its rate limit refusing the
 * second answer) and a real S3, in headless Chromium.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { buildSite, CHROMIUM, launchBrowser } from './harness.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { makeJpeg } from '../serve/helpers/images.js';

const haveChromium = await fs.access(CHROMIUM).then(() => true, () => false);
const SHOTS = process.env.AREYOUACAT_SCREENSHOTS ?? path.join(os.tmpdir(), 'areyouacat-screenshots');

describe.skipIf(!haveChromium)('predict page on a model without a pretrained backbone', () => {
  let tmp: string;
  let oldHome: string | undefined;
  let s3: TestS3;
  let srv: RunningServer;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let photo: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-feedback-choice-'));
    oldHome = process.env.AREYOUACAT_HOME;
    const home = path.join(tmp, 'home');
    process.env.AREYOUACAT_HOME = home;
    await promoteTestModel(await registerTestModel({ tmp, imageSize: 32, dataset: 'synthetic-seed-1-n-1600' }));
    const site = path.join(tmp, 'site');
    await buildSite(home, site);
    s3 = await startTestS3('feedback-choice');
    srv = await startServer({ port: 0, siteRoot: site, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: { burst: 1, perSecond: 0.001 }, snapshotMs: 0, workers: 1, log: () => undefined });
    photo = path.join(tmp, 'photo.jpg');
    await fs.writeFile(photo, await makeJpeg(240, 180, 4));
    ({ browser, close: closeBrowser } = await launchBrowser());
    await fs.mkdir(SHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await closeBrowser?.();
    await srv?.close();
    await s3?.stop();
    if (oldHome === undefined) delete process.env.AREYOUACAT_HOME;
    else process.env.AREYOUACAT_HOME = oldHome;
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('says the model is a demonstration trained on drawings, offers only "keep my photo", and shows a refusal in words', async () => {
    const page = await browser.newPage();
    await page.goto(`${srv.url}/predict`);
    const note = page.locator('.trained-on');
    await note.waitFor();
    expect(await note.getAttribute('data-synthetic')).toBe('true');
    expect(await note.innerText()).toMatch(/demonstration/i);
    expect(await note.innerText()).toMatch(/synthetic set/);
    expect(await note.innerText()).toContain('areyouacat pipeline deploy --data');
    await page.locator('.predict-status', { hasText: 'ready' }).waitFor();
    await page.setInputFiles('#photo-input', photo);
    await page.locator('.feedback-store').waitFor();
    expect(await page.locator('.feedback-store').getAttribute('data-stores')).toBe('photo');
    expect(await page.locator('#feedback-store-features').count()).toBe(0);
    expect(await page.locator('#feedback-store-photo').isChecked()).toBe(true);
    await page.locator('#feedback-consent').check();
    await page.getByRole('button', { name: 'Yes, that is right' }).click();
    await page.locator('.feedback-status', { hasText: 'your photo were recorded' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'predict-synthetic-feedback.png'), fullPage: true });
    // The rate limit (burst 1) refuses the second answer: the page gives the server's reason, not just a status code.
    await page.getByRole('button', { name: 'No, that is wrong' }).click();
    const refused = page.locator('.feedback-status[data-status="429"]');
    await refused.waitFor();
    const text = await refused.innerText();
    expect(text).toMatch(/The server did not take the feedback: .{10,}/);
    expect(text).not.toMatch(/\(429\)/);
  }, 600_000);

  it('the server says in /api/health which choices the served model takes', async () => {
    const h = await (await fetch(`${srv.url}/api/health`)).json();
    expect(h.model.feedback).toMatchObject({ stores: ['photo'], default: 'photo' });
  });
});
