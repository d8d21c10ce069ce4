import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createStaticSiteHandler } from '../../src/serve/static-site.js';
import { readMultipart } from '../../src/serve/multipart.js';
import { checkFeedbackFields } from '../../src/feedback/form.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-output/screenshots');

/** Build the report site from the data directory `home` into `out` (the project's own build script). */
export async function buildSite(home: string, out: string): Promise<string> {
  // Framework only clears an output folder inside the working directory; a temp folder is cleared here.
  await fs.rm(out, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/reports-site.ts', 'build'], {
      env: { ...process.env, AREYOUACAT_HOME: home, AREYOUACAT_SITE_OUT: out, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('exit', (code) => (code === 0 ? resolve(log) : reject(new Error(`site build failed (${code}):\n${log.slice(-4000)}`))));
  });
}

export interface FeedbackPost {
  fields: Record<string, string>;
  photo: { mimeType: string; bytes: number };
}

/** What the stand-in /api/predict answers (the shape of the server's PredictResponse). */
export const STUB_PREDICTION = { probability: 0.25, decision: 'not-cat', isCat: false, threshold: 0.5, modelVersion: 1, latencyMs: 12 };

/**
 * Serve a built site under `prefix`, with the API routes the predict page looks for. The feedback route reads
 * the form with the server's multipart reader and checks it with the server's own field rules; the predict route
 * records the photo it was sent and answers STUB_PREDICTION.
 */
export async function serveSite(root: string, prefix: string): Promise<{ origin: string; feedback: FeedbackPost[]; predictions: FeedbackPost['photo'][]; close: () => Promise<void> }> {
  const site = createStaticSiteHandler({ root, prefix, notFound: true });
  const feedback: FeedbackPost[] = [];
  const predictions: FeedbackPost['photo'][] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/api/health' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url === '/api/feedback' && req.method === 'POST') {
      readMultipart(req, { fileBytes: 10 * 1024 * 1024 }).then((form) => {
        checkFeedbackFields(form.fields);
        const photo = form.files.find((f) => f.field === 'photo');
        if (!photo) throw new Error('no photo');
        feedback.push({ fields: form.fields, photo: { mimeType: photo.mimeType, bytes: photo.data.length } });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"stored"}');
      }).catch((err: Error) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })));
      return;
    }
    // A server without live monitoring: the monitoring page keeps the report the site was built with.
    if (req.url === '/api/monitoring' && req.method === 'GET') {
      res.writeHead(204).end();
      return;
    }
    if (req.url === '/api/predict' && req.method === 'POST') {
      readMultipart(req, { fileBytes: 10 * 1024 * 1024 }).then((form) => {
        const photo = form.files.find((f) => f.field === 'photo');
        if (!photo) throw new Error('no photo');
        predictions.push({ mimeType: photo.mimeType, bytes: photo.data.length });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(STUB_PREDICTION));
      }).catch((err: Error) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })));
      return;
    }
    if (!site(req, res)) res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    feedback,
    predictions,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Chromium with a fresh profile (a persistent context is how Playwright takes a user data dir). */
/** How long a browser test waits for a page state (an element, a drawn chart) before it fails. */
export const BROWSER_WAIT_MS = 180_000;

export async function launchBrowser(): Promise<{ browser: BrowserContext; close: () => Promise<void> }> {
  const profile = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  // A loaded 2-core CI machine can take far longer than Playwright's 30 s default to build a page's charts; every
  // wait still ends (and fails with its selector) within these bounds.
  browser.setDefaultTimeout(BROWSER_WAIT_MS);
  browser.setDefaultNavigationTimeout(BROWSER_WAIT_MS);
  return { browser, close: async () => { await browser.close(); await fs.rm(profile, { recursive: true, force: true }); } };
}

/** What a page did while it was open: console errors, uncaught errors and every request URL. */
export interface PageLog {
  errors: string[];
  requests: string[];
}

export function watchPage(page: Page): PageLog {
  const log: PageLog = { errors: [], requests: [] };
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => log.errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => log.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => log.requests.push(r.url()));
  return log;
}

/** Requests that leave the site's origin (data: and blob: URLs stay in the page). */
export function offOrigin(requests: string[], origin: string): string[] {
  return requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
}

/** Wait until every chart on the page has drawn its svg (or a chart reported failure). */
export async function chartsDrawn(page: Page): Promise<number> {
  await page.waitForFunction(() => {
    const charts = Array.from(document.querySelectorAll('.vl-chart'));
    return charts.every((c) => c.querySelector('svg') || c.textContent?.includes('could not be drawn'));
  }, undefined, { timeout: BROWSER_WAIT_MS });
  return page.locator('.vl-chart svg').count();
}

/**
 * Record the grid sizes the predict page's explanation is drawn with, in order (from now on); the returned function
 * reads them. The page refines in steps, so a finished explanation shows e.g. ['4', '8'].
 */
export async function recordGrids(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { __grids: string[]; __gridObserver?: MutationObserver };
    w.__grids = [];
    w.__gridObserver?.disconnect();
    w.__gridObserver = new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target as HTMLElement;
        if (el.matches?.('canvas.heatmap') && el.dataset.grid && r.attributeName === 'data-grid') w.__grids.push(el.dataset.grid);
      }
    });
    w.__gridObserver.observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-grid'] });
  });
  return () => page.evaluate(() => (window as unknown as { __grids: string[] }).__grids);
}
