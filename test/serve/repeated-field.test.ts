/**
 * Issue 26, defect 8 (second half): a form that names a field twice (consent=false, then consent=true) is a 400,
 * not "the last one wins". A real server and a real S3; the feedback must not be stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { makeJpeg } from './helpers/images.js';
import { useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('repeated-field');
  s3 = await startTestS3('repeated-field');
  srv = await startServer({ port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, log: () => undefined });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('a repeated form field', () => {
  it('is refused with a 400 naming the field, and nothing is stored', async () => {
    const fd = new FormData();
    fd.append('consent', 'false');
    fd.append('consent', 'true');
    fd.append('answer', 'cat');
    fd.append('prediction', 'cat');
    fd.append('photo', new Blob([new Uint8Array(await makeJpeg(96, 72, 9))], { type: 'image/jpeg' }), 'p.jpg');
    const res = await fetch(`${srv.url}/api/feedback`, { method: 'POST', body: fd });
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('repeated_field');
    expect(body.error.message).toMatch(/"consent"/);
    expect((await s3.store.listKeys(s3.bucket, 'feedback/').catch(() => [])).length).toBe(0);
  }, 60_000);

  it('two files in the photo field are refused too', async () => {
    const fd = new FormData();
    fd.append('consent', 'true');
    fd.append('answer', 'cat');
    fd.append('prediction', 'cat');
    const jpeg = new Uint8Array(await makeJpeg(96, 72, 10));
    fd.append('photo', new Blob([jpeg], { type: 'image/jpeg' }), 'a.jpg');
    fd.append('photo', new Blob([jpeg], { type: 'image/jpeg' }), 'b.jpg');
    const res = await fetch(`${srv.url}/api/feedback`, { method: 'POST', body: fd });
    expect(res.status).toBe(400);
  }, 60_000);
});
