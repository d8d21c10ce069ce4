/**
 * Issue 26, defect 2: every /v2 request has a budget in decoded pixels and tensor elements; above it the answer is
 * a 413 that names the limit. A real server with a small budget and a real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { makeJpeg } from './helpers/images.js';
import { useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('budget');
  s3 = await startTestS3('budget');
  await promoteTestModel(await registerTestModel({ tmp: home.home, imageSize: 32 }));
  srv = await startServer({
    port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, workers: 1,
    requestBudget: { maxPixels: 100_000, maxElements: 4000 }, log: () => undefined,
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

const infer = async (input: unknown) => {
  const res = await fetch(`${srv.url}/v2/models/areyouacat/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [input] }) });
  return { status: res.status, json: (await res.json()) as { error?: string } };
};

describe('the /v2 request budget', () => {
  it('decoded pixels: one 320x240 photo is answered, two are a 413 naming the limit', async () => {
    const a = (await makeJpeg(320, 240, 1)).toString('base64');
    const b = (await makeJpeg(320, 240, 2)).toString('base64');
    expect((await infer({ name: 'image', shape: [1], datatype: 'BYTES', data: [a] })).status).toBe(200);
    const two = await infer({ name: 'image', shape: [2], datatype: 'BYTES', data: [a, b] });
    expect(two.status).toBe(413);
    expect(two.json.error).toMatch(/100000 pixels/);
  });

  it('tensor elements: [1, 32, 32, 3] is answered, [2, 32, 32, 3] is a 413 naming the limit, flat or nested', async () => {
    const one = Array.from({ length: 32 * 32 * 3 }, (_, i) => i % 256);
    expect((await infer({ name: 'pixels', shape: [1, 32, 32, 3], datatype: 'FP32', data: one })).status).toBe(200);
    const flat = await infer({ name: 'pixels', shape: [2, 32, 32, 3], datatype: 'FP32', data: [...one, ...one] });
    expect(flat.status).toBe(413);
    expect(flat.json.error).toMatch(/limit of 4000/);
    const nested = (x: number[]) => Array.from({ length: 32 }, (_, r) => Array.from({ length: 32 }, (_, c) => x.slice((r * 32 + c) * 3, (r * 32 + c) * 3 + 3)));
    const big = await infer({ name: 'pixels', shape: [4, 32, 32, 3], datatype: 'FP32', data: [nested(one), nested(one), nested(one), nested(one)] });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatch(/limit of 4000/);
  });
});
