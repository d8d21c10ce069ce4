/**
 * Conformance of the Open Inference Protocol (KServe V2) REST routes, written from the protocol's specification:
 * server metadata {name, version, extensions}, health {live} / {ready}, model metadata {name, versions, platform,
 * inputs, outputs}, model ready {name, ready}, inference request {id?, parameters?, inputs, outputs?} and response
 * {model_name, model_version, id, outputs: [{name, shape, datatype, data}]}, errors {"error": string}.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { prepareImage } from '../../src/data/prepare.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { catsV1Photo, makeJpeg, makePngBomb } from './helpers/images.js';
import { useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
let empty: RunningServer;
let photo: Buffer;
const photos: Buffer[] = [];
const logs: string[] = [];
const MAX_UPLOAD = 512 * 1024;
const MAX_BATCH = 16;
const SIZE = 32;

beforeAll(async () => {
  home = await useTempHome('v2');
  s3 = await startTestS3('v2');
  await promoteTestModel(await registerTestModel({ tmp: home.home, imageSize: SIZE, seed: 2 }));
  photo = catsV1Photo() ?? (await makeJpeg());
  for (let i = 0; i < MAX_BATCH; i++) photos.push(await makeJpeg(160 + 8 * i, 120 + 4 * i, i + 1));
  const common = { port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, maxUploadBytes: MAX_UPLOAD, maxPixels: 4_000_000, maxBatch: MAX_BATCH, workers: 1, log: (m: string) => logs.push(m) };
  srv = await startServer(common);
  empty = await startServer({ ...common, readPromoted: async () => null, modelPollMs: 0 });
});

afterAll(async () => {
  await srv?.close();
  await empty?.close();
  await s3?.stop();
  await home?.restore();
});

async function get(path: string, server = srv) {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), json: await res.json() };
}

async function infer(body: unknown, path = '/v2/models/areyouacat/infer', headers: Record<string, string> = { 'content-type': 'application/json' }, server = srv) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const b64 = (b: Buffer) => b.toString('base64');
const imageInput = (files: Buffer[], shape: number[] = [files.length]) => ({ name: 'image', shape, datatype: 'BYTES', data: files.map(b64) });

/** Every protocol error is exactly {"error": "<a reason>"}. */
function expectError(r: { status: number; json: any }, status: number, reason: RegExp) {
  expect(r.status).toBe(status);
  expect(Object.keys(r.json)).toEqual(['error']);
  expect(typeof r.json.error).toBe('string');
  expect(r.json.error).toMatch(reason);
}

async function apiPredict(file: Buffer): Promise<number> {
  const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(file) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { probability: number }).probability;
}

describe('Open Inference Protocol: server and model metadata, health', () => {
  it('GET /v2: server metadata {name, version, extensions}', async () => {
    const r = await get('/v2');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.json).toEqual({ name: 'areyouacat', version: expect.any(String), extensions: [] });
  });

  it('GET /v2/health/live and /v2/health/ready: 200 while a model is loaded', async () => {
    expect(await get('/v2/health/live')).toMatchObject({ status: 200, json: { live: true } });
    expect(await get('/v2/health/ready')).toMatchObject({ status: 200, json: { ready: true } });
  });

  it('GET /v2/models/{name} and /versions/{version}: inputs and outputs with datatype and shape', async () => {
    const expected = {
      name: 'areyouacat',
      versions: ['1'],
      platform: 'tensorflowjs_layers',
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [-1] },
        { name: 'pixels', datatype: 'FP32', shape: [-1, SIZE, SIZE, 3] },
      ],
      outputs: [
        { name: 'p_cat', datatype: 'FP32', shape: [-1, 1] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
      ],
    };
    expect(await get('/v2/models/areyouacat')).toMatchObject({ status: 200, json: expected });
    expect(await get('/v2/models/areyouacat/versions/1')).toMatchObject({ status: 200, json: expected });
  });

  it('GET /v2/models/{name}/ready and the versioned form: {name, ready}', async () => {
    expect(await get('/v2/models/areyouacat/ready')).toMatchObject({ status: 200, json: { name: 'areyouacat', ready: true } });
    expect(await get('/v2/models/areyouacat/versions/1/ready')).toMatchObject({ status: 200, json: { name: 'areyouacat', ready: true } });
  });

  it('404 {error} for an unknown model, an unknown version and an unknown /v2 path', async () => {
    expectError(await get('/v2/models/dogs'), 404, /unknown model "dogs"/);
    expectError(await get('/v2/models/dogs/ready'), 404, /unknown model/);
    expectError(await get('/v2/models/areyouacat/versions/7'), 404, /unknown version "7"/);
    expectError(await get('/v2/models/areyouacat/versions/7/ready'), 404, /unknown version/);
    expectError(await infer({ inputs: [imageInput([photo])] }, '/v2/models/dogs/infer'), 404, /unknown model/);
    expectError(await infer({ inputs: [imageInput([photo])] }, '/v2/models/areyouacat/versions/2/infer'), 404, /unknown version "2"/);
    expectError(await get('/v2/repository/index'), 404, /no Open Inference Protocol route/);
  });

  it('405 {error} for the wrong method', async () => {
    const r = await fetch(`${srv.url}/v2/models/areyouacat/infer`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(Object.keys((await r.json()) as object)).toEqual(['error']);
    const p = await fetch(`${srv.url}/v2/health/ready`, { method: 'POST' });
    expect(p.status).toBe(405);
  });

  it('503 while no model is ready: server ready, model ready, metadata and infer; live stays 200', async () => {
    expect(await get('/v2/health/live', empty)).toMatchObject({ status: 200, json: { live: true } });
    expect(await get('/v2/health/ready', empty)).toMatchObject({ status: 503, json: { ready: false } });
    expect(await get('/v2/models/areyouacat/ready', empty)).toMatchObject({ status: 503, json: { name: 'areyouacat', ready: false } });
    expectError(await get('/v2/models/areyouacat', empty), 503, /no model is ready/);
    expectError(await infer({ inputs: [imageInput([photo])] }, undefined, undefined, empty), 503, /no model is ready/);
    expectError(await get('/v2/models/other', empty), 404, /unknown model/);
  });
});

describe('Open Inference Protocol: inference', () => {
  it('a batch of 1 (BYTES [1] and [1, 1]): p_cat FP32 [1, 1], label BYTES [1], the id echoed', async () => {
    for (const shape of [[1], [1, 1]]) {
      const r = await infer({ id: 'req-42', inputs: [imageInput([photo], shape)] });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        model_name: 'areyouacat',
        model_version: '1',
        id: 'req-42',
        outputs: [
          { name: 'p_cat', shape: [1, 1], datatype: 'FP32', data: [expect.any(Number)] },
          { name: 'label', shape: [1], datatype: 'BYTES', data: [expect.stringMatching(/^(cat|not-cat)$/)] },
        ],
      });
      const p = r.json.outputs[0].data[0];
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(r.json.outputs[1].data[0]).toBe(p >= 0.5 ? 'cat' : 'not-cat');
    }
  });

  it('a batch of 16: each p_cat equals /api/predict on the same photo (1e-5), in order', async () => {
    const r = await infer({ inputs: [imageInput(photos)], parameters: {} });
    expect(r.status).toBe(200);
    expect(typeof r.json.id).toBe('string');
    const [pCat, label] = r.json.outputs;
    expect(pCat).toMatchObject({ name: 'p_cat', shape: [MAX_BATCH, 1], datatype: 'FP32' });
    expect(label).toMatchObject({ name: 'label', shape: [MAX_BATCH], datatype: 'BYTES' });
    expect(pCat.data).toHaveLength(MAX_BATCH);
    expect(label.data).toHaveLength(MAX_BATCH);
    const single = await Promise.all(photos.map(apiPredict));
    (pCat.data as number[]).forEach((p, i) => expect(Math.abs(p - single[i])).toBeLessThan(1e-5));
  });

  it('FP32 [N, S, S, 3] prepared pixels (0..255, flat or nested) give the same p_cat as the encoded photos', async () => {
    const prepared = await Promise.all(photos.slice(0, 3).map((p) => prepareImage(p, SIZE)));
    const flat = prepared.flatMap((px) => Array.from(px));
    const fromBytes = await infer({ inputs: [imageInput(photos.slice(0, 3))] });
    const fromFlat = await infer({ inputs: [{ name: 'pixels', shape: [3, SIZE, SIZE, 3], datatype: 'FP32', data: flat }] });
    expect(fromFlat.status).toBe(200);
    expect(fromFlat.json.outputs[0]).toMatchObject({ name: 'p_cat', shape: [3, 1], datatype: 'FP32' });
    const nested = prepared.map((px) => Array.from({ length: SIZE }, (_, y) => Array.from({ length: SIZE }, (_, x) => Array.from(px.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3)))));
    const fromNested = await infer({ inputs: [{ name: 'pixels', shape: [3, SIZE, SIZE, 3], datatype: 'FP32', data: nested }] });
    expect(fromNested.status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(fromFlat.json.outputs[0].data[i] - fromBytes.json.outputs[0].data[i])).toBeLessThan(1e-6);
      expect(fromNested.json.outputs[0].data[i]).toBe(fromFlat.json.outputs[0].data[i]);
    }
  });

  it('honours the requested outputs (names and order) and the versioned route', async () => {
    const r = await infer({ inputs: [imageInput([photo])], outputs: [{ name: 'label' }] }, '/v2/models/areyouacat/versions/1/infer');
    expect(r.status).toBe(200);
    expect(r.json.model_version).toBe('1');
    expect((r.json.outputs as { name: string }[]).map((o) => o.name)).toEqual(['label']);
    const both = await infer({ inputs: [imageInput([photo])], outputs: [{ name: 'label' }, { name: 'p_cat' }] });
    expect((both.json.outputs as { name: string }[]).map((o) => o.name)).toEqual(['label', 'p_cat']);
  });

  it('a plain HTTP client following the KServe V2 examples gets the same p_cat as /api/predict (1e-5)', async () => {
    // As in the protocol's examples: POST JSON with an id, one input tensor and the outputs wanted.
    const res = await fetch(`${srv.url}/v2/models/areyouacat/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: '42', inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [photo.toString('base64')] }], outputs: [{ name: 'p_cat' }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; outputs: Array<{ name: string; data: number[] }> };
    expect(body.id).toBe('42');
    expect(Math.abs(body.outputs[0].data[0] - (await apiPredict(photo)))).toBeLessThan(1e-5);
  });
});

describe('Open Inference Protocol: bad input (4xx with a reason, server stays up, nothing logged as a server error)', () => {
  const per = SIZE * SIZE * 3;
  const cases: Array<[string, () => Promise<unknown>, number, RegExp]> = [
    ['wrong datatype', async () => ({ inputs: [{ ...imageInput([photo]), datatype: 'FP32' }] }), 400, /datatype BYTES/],
    ['wrong datatype for pixels', async () => ({ inputs: [{ name: 'pixels', shape: [1, SIZE, SIZE, 3], datatype: 'UINT8', data: new Array(per).fill(0) }] }), 400, /datatype FP32/],
    ['shape not matching the data length', async () => ({ inputs: [imageInput([photo], [2])] }), 400, /needs 2 elements, "data" has 1/],
    ['pixels shape not matching the data length', async () => ({ inputs: [{ name: 'pixels', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', data: new Array(per).fill(0) }] }), 400, /needs 6144 elements/],
    ['pixels of another image size', async () => ({ inputs: [{ name: 'pixels', shape: [1, 64, 64, 3], datatype: 'FP32', data: [] }] }), 400, /shape must be \[N, 32, 32, 3\]/],
    ['pixel values out of range', async () => ({ inputs: [{ name: 'pixels', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: new Array(per).fill(300) }] }), 400, /from 0 to 255/],
    ['N above the maximum', async () => ({ inputs: [imageInput(Array.from({ length: MAX_BATCH + 1 }, () => photos[0]))] }), 400, /batch of 17 is above the maximum of 16/],
    ['an empty batch', async () => ({ inputs: [{ name: 'image', shape: [0], datatype: 'BYTES', data: [] }] }), 400, /empty/],
    ['base64 that does not decode', async () => ({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: ['not base64 at all!'] }] }), 400, /not valid base64/],
    ['bytes that are not an image', async () => ({ inputs: [imageInput([Buffer.from('hello, this is plain text and no photo')])] }), 400, /not a JPEG, PNG, WebP or GIF/],
    ['a truncated image', async () => ({ inputs: [imageInput([photo.subarray(0, 200)])] }), 400, /cannot be decoded/],
    ['a 30000x30000 PNG', async () => ({ inputs: [imageInput([await makePngBomb(30_000)])] }), 400, /more than 4000000 pixels/],
    ['an image file over the upload limit', async () => ({ inputs: [imageInput([Buffer.alloc(MAX_UPLOAD + 10, 1)])] }), 400, /larger than the limit/],
    ['an unknown input name', async () => ({ inputs: [{ ...imageInput([photo]), name: 'input0' }] }), 400, /unknown input "input0"/],
    ['two inputs', async () => ({ inputs: [imageInput([photo]), imageInput([photo])] }), 400, /exactly one input/],
    ['no inputs', async () => ({ id: 'x' }), 400, /"inputs" must be an array/],
    ['a non-string id', async () => ({ id: 42, inputs: [imageInput([photo])] }), 400, /"id" must be a string/],
    ['an unknown output', async () => ({ inputs: [imageInput([photo])], outputs: [{ name: 'logits' }] }), 400, /unknown output "logits"/],
    ['a negative shape', async () => ({ inputs: [{ ...imageInput([photo]), shape: [-1] }] }), 400, /shape/],
    ['a JSON array body', async () => [1, 2, 3], 400, /JSON object/],
  ];
  for (const [what, body, status, reason] of cases) {
    it(`${what}: ${status}`, async () => expectError(await infer(await body()), status, reason));
  }

  it('malformed JSON: 400', async () => expectError(await infer('{"inputs": [', undefined), 400, /not valid JSON/));

  it('a JSON body over the size limit: 413 before it is parsed', async () => {
    const big = JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: ['A'.repeat(4 * MAX_UPLOAD + 100)] }] });
    expectError(await infer(big), 413, /larger than the limit/);
  });

  it('a Content-Type that is not JSON: 415', async () => {
    expectError(await infer({ inputs: [imageInput([photo])] }, undefined, { 'content-type': 'text/plain' }), 415, /application\/json/);
    expectError(await infer(photo.toString('latin1'), undefined, { 'content-type': 'image/jpeg' }), 415, /application\/json/);
  });

  it('after all of that the server still answers and logged no server error', async () => {
    expect(await get('/v2/health/ready')).toMatchObject({ status: 200 });
    expect((await infer({ inputs: [imageInput([photo])] })).status).toBe(200);
    expect(logs.filter((l) => /^error on/.test(l))).toEqual([]);
  });
});
