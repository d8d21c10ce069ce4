/**
 * Issue 26, defect 8 (first half): when the promoted version fails to load and the server keeps answering with the
 * one before, the monitoring report names the version that answers (and says which one is promoted). A real server,
 * a real registry; v2's files are damaged after registration.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { readPromoted } from '../../src/registry/registry.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { until } from '../helpers/until.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { useTempHome } from '../serve/helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('served-version');
  s3 = await startTestS3('served-version');
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 1 }));
  srv = await startServer({ port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, modelPollMs: 100, workers: 1, log: () => undefined });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('monitoring report while the promoted version fails to load', () => {
  it('names the version that answers, and the promoted one apart', async () => {
    const v2 = await registerTestModel({ tmp: home.home, seed: 2 });
    const modelJson = path.join(v2.dir, 'model.json');
    await fs.writeFile(modelJson, (await fs.readFile(modelJson, 'utf8')).slice(0, 40));
    await promoteTestModel(v2);
    expect((await readPromoted())?.version).toBe(2);
    await until(async () => {
      const h = await (await fetch(`${srv.url}/api/health`)).json();
      return h.modelLoadError?.version === 2;
    }, 'the server to fail loading v2');
    const res = await fetch(`${srv.url}/api/monitoring`);
    expect(res.status).toBe(200);
    const data = await res.json();
    expect(data.report.model.version).toBe(1);
    expect(data.report.model.promotedVersion).toBe(2);
  }, 120_000);
});
