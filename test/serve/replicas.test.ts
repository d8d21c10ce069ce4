import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, rollback } from '../../src/registry/registry.js';
import { publishRegistry } from '../../src/registry/publish.js';
import { parseModelsUrl, type ModelsLocation } from '../../src/registry/remote.js';
import { s3Env, startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { makeJpeg } from './helpers/images.js';
import { registerTestModel } from './helpers/model-fixture.js';
import { form, useTempHome } from './helpers/server-fixture.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { waitFor } from './helpers/wait-for.js';

// Two `serve --model-from` replicas in their own processes and data folders, following the models this process
// (the coordinator, with the local registry) publishes to one bucket.

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let loc: ModelsLocation;
const replicas: ServerProcess[] = [];
let jpeg: Buffer;

interface ReplicaHealth {
  model?: { version?: number } | null;
  modelSource?: { state: string; version: number | null; lastError: string | null; nextAttemptAt: string | null } | null;
  [field: string]: unknown;
}

async function health(r: ServerProcess): Promise<ReplicaHealth> {
  const res = await fetch(`${r.url}/api/health`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as ReplicaHealth;
}

async function versionOf(r: ServerProcess): Promise<number | null> {
  return (await health(r).catch(() => null))?.model?.version ?? null;
}

beforeAll(async () => {
  home = await useTempHome('replicas');
  s3 = await startTestS3('replicas');
  loc = { ...parseModelsUrl(`s3://${s3.bucket}/models`), store: s3.store };
  jpeg = await makeJpeg(120, 90, 3);
  const v1 = await registerTestModel({ tmp: home.home, seed: 1 });
  await registerTestModel({ tmp: home.home, seed: 2 });
  await promote(v1.version, { force: true, reason: 'test model' });
  await publishRegistry(loc, { versions: 'all' });
  for (const name of ['a', 'b']) replicas.push(await startReplica(name, s3.endpoint));
}, 240_000);

/** A replica in its own process and data folder, reaching S3 at `endpoint`. */
async function startReplica(name: string, endpoint: string): Promise<ServerProcess> {
  const dir = path.join(home.home, `replica-${name}`);
  await fs.mkdir(dir, { recursive: true });
  const env = {
    ...process.env,
    ...s3Env(s3),
    AREYOUACAT_HOME: dir,
    // the replica may reach S3 through a proxy the test controls
    AREYOUACAT_S3_ENDPOINT: endpoint,
  };
  return startServerProcess({ modelFrom: `s3://${s3.bucket}/models`, workers: 0, rateLimit: null, monitorInputs: false }, env);
}

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await s3?.stop();
  await home?.restore();
});

describe('serve --model-from: replicas', () => {
  it('both replicas follow a promotion and a rollback within 10 s, with no failed request under load', async () => {
    await waitFor(async () => (await Promise.all(replicas.map(versionOf))).every((v) => v === 1), 'both replicas serving v1', 120_000);
    const h = await health(replicas[0]);
    expect(h.modelSource).toMatchObject({ url: `s3://${s3.bucket}/models/`, state: 'ok', version: 1 });

    const failures: string[] = [];
    const seen = replicas.map(() => new Set<number>());
    let requests = 0;
    let stop = false;
    const client = async (i: number) => {
      const r = replicas[i % replicas.length];
      while (!stop) {
        try {
          const res = await fetch(`${r.url}/api/predict`, {
            method: 'POST',
            body: new Uint8Array(jpeg),
            headers: { 'content-type': 'image/jpeg' },
            signal: AbortSignal.timeout(30_000),
          });
          const json = (await res.json());
          requests++;
          if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(json)}`);
          else seen[i % replicas.length].add(json.modelVersion);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, i) => client(i));
    try {
      await waitFor(() => requests >= 8, 'the load to start', 60_000);

      const follow = async (version: number) => {
        const t0 = Date.now();
        await waitFor(async () => (await Promise.all(replicas.map(versionOf))).every((v) => v === version), `both replicas serving v${version}`, 10_000);
        return Date.now() - t0;
      };
      await promote(2, { force: true, reason: 'test model' });
      await publishRegistry(loc);
      const promotedIn = await follow(2);
      await rollback(1, { reason: 'test rollback' });
      await publishRegistry(loc);
      const rolledBackIn = await follow(1);
      const before = requests;
      await waitFor(() => requests >= before + 4, 'requests after the rollback', 60_000);
      process.stderr.write(`replicas followed the promotion in ${promotedIn} ms and the rollback in ${rolledBackIn} ms (${requests} requests)\n`);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    for (const s of seen) expect(s).toContain(1);
    // Each replica downloaded each version once into its own cache.
    for (const name of ['a', 'b']) {
      const cached = (await fs.readdir(path.join(home.home, `replica-${name}`, 'cache', 'models'))).filter((n) => !n.startsWith('.'));
      expect(cached.map((n) => n.split('-')[0]).sort()).toEqual(['v1', 'v2']);
    }
  }, 240_000);

  it('lands the feedback of every replica in the one bucket, each item once', async () => {
    const ids: string[] = [];
    for (const [i, r] of replicas.entries()) {
      const photo = await makeJpeg(100, 80, 10 + i);
      const res = await fetch(`${r.url}/api/feedback`, {
        method: 'POST',
        body: form({ consent: 'true', answer: 'cat', prediction: 'cat', probability: '0.9', modelVersion: '1', photo: { data: photo, filename: 'p.jpg', type: 'image/jpeg' } }),
      });
      expect([201, 202]).toContain(res.status);
      ids.push(((await res.json())).id);
    }
    expect(new Set(ids).size).toBe(2);
    const records = async () => (await s3.store.listKeys(s3.bucket, 'feedback/')).map((o) => o.key).filter((k) => k.endsWith('.json'));
    await waitFor(async () => (await records()).length >= 2, 'two feedback records in the bucket', 60_000);
    const keys = await records();
    expect(keys).toHaveLength(2);
    for (const id of ids) expect(keys.filter((k) => k.includes(id))).toHaveLength(1);
    const photos = (await s3.store.listKeys(s3.bucket, 'feedback/')).filter((o) => o.key.endsWith('.jpg'));
    expect(photos).toHaveLength(2);
  }, 120_000);

  it('keeps serving while S3 is unreachable, says so in health, and catches up once it is back', async () => {
    const proxy = TcpProxy.forUrl(s3.endpoint);
    await proxy.start();
    const r = await startReplica('c', proxy.endpoint);
    try {
      await waitFor(async () => (await versionOf(r)) === 1, 'replica c serving v1', 120_000);
      proxy.mode = 'drop';
      proxy.cut();
      await waitFor(async () => (await health(r)).modelSource?.state === 'unavailable', 'health to say the model source is unavailable', 30_000);
      const h = await health(r);
      expect(h.status).toBe('ok');
      expect(h.model?.version).toBe(1);
      expect(h.modelSource?.lastError).toMatch(/unreachable/);
      expect(h.modelSource?.nextAttemptAt).not.toBeNull();
      const res = await fetch(`${r.url}/api/predict`, { method: 'POST', body: new Uint8Array(jpeg), headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).toBe(200);
      expect(((await res.json())).modelVersion).toBe(1);

      await promote(2, { force: true, reason: 'test model' });
      await publishRegistry(loc);
      proxy.mode = 'forward';
      await waitFor(async () => (await versionOf(r)) === 2, 'replica c serving v2 after S3 came back', 60_000);
      expect((await health(r)).modelSource).toMatchObject({ state: 'ok', version: 2, lastError: null });
    } finally {
      await r.stop();
      await proxy.stop();
    }
  }, 240_000);
});
