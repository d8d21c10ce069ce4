import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { catsV1Photo, makeJpeg, makeJpegWithGps, makePngBomb } from './helpers/images.js';
import { form, rawRequest, useTempHome } from './helpers/server-fixture.js';
import { until } from '../helpers/until.js';
import { parsePrometheusText } from '../../src/monitoring/prometheus-text.js';
import type { FeedbackRecord } from '../../src/feedback/types.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
let jpeg: Buffer;
const logs: string[] = [];
const MAX_UPLOAD = 512 * 1024;

beforeAll(async () => {
  home = await useTempHome('serve');
  s3 = await startTestS3('serve');
  const site = path.join(home.home, 'site');
  await fs.mkdir(site, { recursive: true });
  await fs.writeFile(path.join(site, 'index.html'), '<h1>areyouacat</h1>');
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 1 }));
  jpeg = catsV1Photo() ?? (await makeJpeg());
  srv = await startServer({
    port: 0,
    siteRoot: site,
    s3: { store: s3.store, bucket: s3.bucket },
    rateLimit: null,
    maxUploadBytes: MAX_UPLOAD,
    maxPixels: 4_000_000,
    snapshotMs: 0,
    modelPollMs: 100,
    log: (m) => logs.push(m),
  });
});

afterAll(async () => {
  if (process.env.DEBUG_SERVE) console.log(logs.join("\n"));
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

async function predictRaw(body: Buffer, type = 'image/jpeg') {
  const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}

describe('serve: prediction API', () => {
  it('reports health with the promoted model', async () => {
    const res = await fetch(`${srv.url}/api/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe('ok');
    expect(body.model).toMatchObject({ version: 1, threshold: 0.5, imageSize: 32 });
    expect(body.model.feedback.stores).toEqual(['photo']); // a CNN without a backbone learns only from photos
  });

  it('predicts a raw JPEG upload: probability, decision at the threshold, version, latency', async () => {
    const { status, json } = await predictRaw(jpeg);
    expect(status).toBe(200);
    expect(json.probability).toBeGreaterThanOrEqual(0);
    expect(json.probability).toBeLessThanOrEqual(1);
    expect(json.decision).toBe(json.probability >= 0.5 ? 'cat' : 'not-cat');
    expect(json.modelVersion).toBe(1);
    expect(json.latencyMs).toBeGreaterThan(0);
  });

  it('gives the same answer for a multipart upload of the same photo', async () => {
    const raw = await predictRaw(jpeg);
    const res = await fetch(`${srv.url}/api/predict`, {
      method: 'POST',
      body: form({ photo: { data: jpeg, filename: 'x.jpg', type: 'image/jpeg' } }),
    });
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json.probability).toBeCloseTo(raw.json.probability, 6);
  });

  it('refuses a non-image and a wrong content type with clear JSON errors', async () => {
    const notImage = await predictRaw(Buffer.from('hello, I am text pretending to be a photo'));
    expect(notImage.status).toBe(415);
    expect(notImage.json.error.code).toBe('not_an_image');
    const wrongType = await predictRaw(jpeg, 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(wrongType.json.error.code).toBe('unsupported_media_type');
    expect(wrongType.json.error.message).toMatch(/image\/jpeg/);
    const empty = await predictRaw(Buffer.alloc(0));
    expect(empty.status).toBe(400);
  });

  it('answers 413 to a declared over-size upload before any body byte is sent', async () => {
    const res = await rawRequest(`${srv.url}/api/predict`, {
      headers: { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) },
      sendBody: false,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
  });

  it('answers 413 to a chunked upload once it grows past the limit', async () => {
    const big = Buffer.concat([jpeg, Buffer.alloc(MAX_UPLOAD)]);
    const res = await rawRequest(`${srv.url}/api/predict`, {
      headers: { 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(res.status).toBe(413);
  });

  it('refuses a decompression bomb and a truncated image', async () => {
    const bomb = await predictRaw(await makePngBomb(), 'image/png');
    expect(bomb.status).toBe(413);
    expect(bomb.json.error.code).toBe('image_too_large');
    const cut = await predictRaw(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(cut.status).toBe(422);
    expect(cut.json.error.code).toBe('corrupt_image');
  });

  it('survives a body cut off mid-upload and counts it', async () => {
    await rawRequest(`${srv.url}/api/predict`, {
      headers: { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) },
      body: jpeg.subarray(0, 100),
      endEarly: true,
    }).catch(() => undefined);
    await until(() => srv.metrics.errors.get({ route: '/api/predict', code: 'truncated_body' }) >= 1, 'the truncated body to be counted');
    expect(srv.metrics.errors.get({ route: '/api/predict', code: 'truncated_body' })).toBeGreaterThanOrEqual(1);
    expect((await predictRaw(jpeg)).status).toBe(200);
  });

  it('answers unknown API routes with 404 and wrong methods with 405, and serves the site', async () => {
    const nope = await fetch(`${srv.url}/api/nope`);
    expect(nope.status).toBe(404);
    expect((await nope.json()).error.code).toBe('not_found');
    const get = await fetch(`${srv.url}/api/predict`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const page = await fetch(`${srv.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('areyouacat');
  });

  it('exposes Prometheus metrics: requests by route and status, errors, latency, model version, queue depth', async () => {
    const res = await fetch(`${srv.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain; version=0.0.4/);
    const samples = parsePrometheusText(await res.text());
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(find('areyouacat_http_requests_total', { route: '/api/predict', status: '200' })?.value).toBeGreaterThanOrEqual(3);
    expect(find('areyouacat_http_requests_total', { route: '/api/predict', status: '415' })?.value).toBeGreaterThanOrEqual(2);
    expect(find('areyouacat_http_errors_total', { route: '/api/predict', code: 'not_an_image' })?.value).toBeGreaterThanOrEqual(1);
    expect(find('areyouacat_http_request_duration_seconds_count', { route: '/api/predict' })?.value).toBeGreaterThan(0);
    expect(find('areyouacat_model_version')?.value).toBe(1);
    expect(find('areyouacat_model_info', { version: '1' })?.value).toBe(1);
    expect(find('areyouacat_feedback_queue_depth')?.value).toBe(0);
  });

  it('sends no credentials to the browser', async () => {
    const texts = await Promise.all(
      ['/api/health', '/metrics', '/'].map(async (p) => (await fetch(`${srv.url}${p}`)).text()),
    );
    for (const t of texts) {
      expect(t).not.toContain(s3.secretAccessKey);
      expect(t).not.toContain(s3.endpoint);
    }
  });
});

describe('serve: feedback', () => {
  it('stores nothing without explicit consent', async () => {
    const before = (await s3.store.listKeys(s3.bucket, 'feedback/')).length;
    for (const consent of [undefined, 'false', 'yes']) {
      const fields: Record<string, any> = { answer: 'cat', prediction: 'not-cat', photo: { data: jpeg, filename: 'a.jpg', type: 'image/jpeg' } };
      if (consent) fields.consent = consent;
      const res = await fetch(`${srv.url}/api/feedback`, { method: 'POST', body: form(fields) });
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('consent_required');
    }
    expect((await s3.store.listKeys(s3.bucket, 'feedback/')).length).toBe(before);
    expect(await srv.queue.depth()).toBe(0);
  });

  it('stores the photo without EXIF/GPS under a server key, with a JSON record', async () => {
    const gps = await makeJpegWithGps();
    expect((await sharp(gps).metadata()).exif).toBeDefined();
    expect((await sharp(gps).metadata()).exif!.toString('latin1')).toContain('SecretCam');
    const res = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      body: form({
        consent: 'true',
        answer: 'not-cat',
        prediction: 'cat',
        probability: '0.83',
        modelVersion: '1',
        photo: { data: gps, filename: '../../../etc/passwd', type: 'image/jpeg' },
      }),
    });
    expect(res.status).toBe(201);
    const { id, status } = await res.json();
    expect(status).toBe('stored');
    const keys = (await s3.store.listKeys(s3.bucket, 'feedback/')).map((o) => o.key);
    const photoKey = keys.find((k) => k.includes(id) && k.endsWith('.jpg'))!;
    const recordKey = keys.find((k) => k.includes(id) && k.endsWith('.json'))!;
    expect(photoKey).toMatch(/^feedback\/photos\/\d{4}-\d{2}-\d{2}\/[0-9TZ]+-[0-9a-f]{16}\.jpg$/);
    expect(keys.some((k) => k.includes('passwd'))).toBe(false);
    const stored = await s3.store.getObject(s3.bucket, photoKey);
    const meta = await sharp(stored).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(stored.toString('latin1')).not.toContain('SecretCam');
    const record = JSON.parse((await s3.store.getObject(s3.bucket, recordKey)).toString()) as FeedbackRecord;
    expect(record).toMatchObject({
      id,
      answer: 'not-cat',
      prediction: { decision: 'cat', probability: 0.83, modelVersion: 1 },
      servedVersion: 1,
      consent: true,
      photoKey,
    });
    expect(record.image.width).toBe(200);
    expect(record.image.properties?.brightness).toBeGreaterThan(0);
    expect(await srv.queue.depth()).toBe(0);
  });

  it('refuses bad answers and non-multipart feedback', async () => {
    const bad = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      body: form({ consent: 'true', answer: 'dog', prediction: 'cat', photo: { data: jpeg, filename: 'a.jpg', type: 'image/jpeg' } }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_answer');
    const json = await fetch(`${srv.url}/api/feedback`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(415);
  });
});

describe('serve: hot swap', () => {
  it('swaps to newly promoted models under load with zero failed requests', async () => {
    const v2 = await registerTestModel({ tmp: home.home, seed: 22 });
    const v3 = await registerTestModel({ tmp: home.home, seed: 33 });
    const seen: number[] = [];
    const failures: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const { status, json } = await predictRaw(jpeg);
        if (status !== 200) failures.push(`${status} ${JSON.stringify(json)}`);
        else seen.push(json.modelVersion);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // A version counts as swapped in once it is loaded and has answered a request under the running load.
    const waitFor = async (version: number) => {
      await until(() => srv.holder.current?.version === version, `v${version} to be loaded`);
      const answered = seen.length;
      await until(() => seen.slice(answered).includes(version), `v${version} to answer a request`);
    };
    await until(() => seen.includes(1), 'v1 to answer a request');
    await promoteTestModel(v2);
    await waitFor(2);
    await promoteTestModel(v3);
    await waitFor(3);
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(new Set(seen)).toEqual(new Set([1, 2, 3]));
    expect(seen[seen.length - 1]).toBe(3);
    // versions only move forward: no request answered by an older model after a newer one answered
    const firstOf3 = seen.indexOf(3);
    expect(seen.slice(firstOf3 + 8).every((v) => v === 3)).toBe(true);
    expect(srv.metrics.modelSwaps.get()).toBe(2);
  });

  it('keeps serving the current model when a promoted version cannot be loaded', async () => {
    const v4 = await registerTestModel({ tmp: home.home, seed: 4 });
    await fs.writeFile(path.join(v4.dir, 'model.json'), '{ broken');
    await promoteTestModel(v4);
    await srv.holder.check();
    expect(srv.holder.current?.version).toBe(3);
    expect(srv.metrics.modelLoadFailures.get()).toBeGreaterThanOrEqual(1);
    expect((await predictRaw(jpeg)).status).toBe(200);
  });
});
