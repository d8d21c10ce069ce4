import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { readPromoted } from '../../src/registry/registry.js';
import { paths } from '../../src/storage/paths.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { makeJpeg } from './helpers/images.js';
import { useTempHome, testServerOptions } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
let modelJson: string;
let goodModelJson: string;
let reads = 0;
const logs: string[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const health = async () => {
  const res = await fetch(`${srv.url}/api/health`);
  return { status: res.status, body: await res.json() };
};
const predict = async () => {
  const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(await makeJpeg()) });
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  home = await useTempHome('loadfail');
  s3 = await startTestS3('loadfail');
  const v = await registerTestModel({ tmp: home.home, seed: 3 });
  await promoteTestModel(v);
  const promoted = (await readPromoted())!;
  modelJson = path.join(promoted.dir, 'model.json');
  goodModelJson = await fs.readFile(modelJson, 'utf8');
  await fs.writeFile(modelJson, goodModelJson.slice(0, 40)); // a damaged copy: truncated JSON
  srv = await startServer(testServerOptions(s3, {
    modelPollMs: 100,
    modelRetryMs: 200,
    readPromoted: () => {
      reads++;
      return readPromoted();
    },
    log: (m) => logs.push(m),
  }));
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('a promoted model that fails to load', () => {
  it('says so in /api/predict, /api/health and the log (not "no model is promoted yet")', async () => {
    const p = await predict();
    expect(p.status).toBe(503);
    expect(p.body.error.code).toBe('model_load_failed');
    expect(p.body.error.message).toMatch(/v1 failed to load/);
    expect(p.body.error.message).not.toMatch(/no model is promoted/);
    const h = await health();
    expect(h.status).toBe(503);
    expect(h.body.status).toBe('model-load-failed');
    expect(h.body.modelLoadError.version).toBe(1);
    expect(h.body.modelLoadError.message.length).toBeGreaterThan(0);
    // Health is unauthenticated: it says what is wrong in words, the details (paths, parser messages) go to the log.
    expect(JSON.stringify(h.body)).not.toContain(home.home);
    expect(JSON.stringify(h.body)).not.toMatch(/\/[\w.-]+\/[\w.-]+/);
    expect(h.body.modelLoadError.message).toMatch(/v1 failed to load: its files are damaged.*log/);
    expect(logs.join('\n')).toMatch(/cannot load promoted model v1.*JSON/);
    const loadLines = logs.filter((l) => /cannot load promoted model v1/.test(l));
    expect(loadLines.length).toBeGreaterThanOrEqual(1);
    expect(logs.join('\n')).not.toMatch(/keeping the current one/);
    expect(loadLines[0]).toMatch(/no model is being served/);
    expect(logs.join('\n')).not.toMatch(/no model is promoted yet/);
  });

  it('is retried with backoff and served once its files are repaired', async () => {
    await fs.writeFile(modelJson, goodModelJson);
    const t0 = Date.now();
    await waitFor('the repaired model to be served', async () => ((await health()).status === 200 ? true : undefined), 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const p = await predict();
    expect(p.status).toBe(200);
    expect(p.body.modelVersion).toBe(1);
    expect((await health()).body.modelLoadError).toBeNull();
  }, 60_000);

  it('logs a damaged promoted.json once until it changes, and keeps serving', async () => {
    const pointer = path.join(paths.registry(), 'promoted.json');
    const good = await fs.readFile(pointer, 'utf8');
    // Replaced as the registry does (write, then rename), so a poll never reads a half-written file.
    const replace = async (text: string) => {
      await fs.writeFile(`${pointer}.tmp`, text);
      await fs.rename(`${pointer}.tmp`, pointer);
    };
    const pointerLines = () => logs.filter((l) => /promoted model pointer/.test(l)).length;
    await replace('{"version": 1, "di');
    await waitFor('the damaged pointer to be logged', async () => (pointerLines() >= 1 ? true : undefined));
    const after = reads;
    await waitFor('ten more polls', async () => (reads >= after + 10 ? true : undefined));
    expect(pointerLines()).toBe(1);
    const h = await health();
    expect(h.status).toBe(200); // v1 stays
    expect(h.body.modelLoadError.version).toBeNull();
    await replace('not json at all');
    await waitFor('the changed damage to be logged', async () => (pointerLines() >= 2 ? true : undefined));
    await replace(good);
    await waitFor('the pointer error to clear', async () => ((await health()).body.modelLoadError === null ? true : undefined));
  }, 60_000);
});
