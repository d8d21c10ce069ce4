import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { registerRegistryCommands } from '../../src/cli/commands/registry.js';
import { promote, registerModel, rollback } from '../../src/registry/registry.js';
import { publishRegistry, publishVersion } from '../../src/registry/publish.js';
import {
  downloadRemoteVersion,
  listRemoteVersions,
  parseModelsUrl,
  readRemoteManifest,
  readRemotePointer,
  RemotePromotedReader,
  type ModelsLocation,
} from '../../src/registry/remote.js';
import { S3Store } from '../../src/storage/s3-client.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../../src/model/cnn.js';
import { saveModel } from '../../src/model/io.js';
import { selectBackend } from '../../src/model/backend.js';
import { s3Env, startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { saveEnv } from '../helpers/env.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
let s3: TestS3;

/** A minimal tfjs-shaped model folder (model.json naming one weight file) registered as the next version. */
/**
 * A bundle of bytes registered as a model, not a loadable one: its backbone layer names a backbone the ONNX exporter
 * has no stages for, so publishing it uploads its files and no ONNX export (every real backbone has one).
 */
const FAKE_BACKBONE = 'test-backbone-without-onnx';

async function registerFake(root: string, tag: string) {
  const dir = path.join(tmp, `model-${tag}-${Math.random().toString(36).slice(2)}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'model.json'),
    JSON.stringify({
      modelTopology: { config: { layers: [{ class_name: 'AreyouacatPretrainedBackbone', config: { backbone: FAKE_BACKBONE, image_size: 256, view: 'whole-v1' } }] } },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'] }],
    }),
  );
  await fs.writeFile(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(`weights of ${tag} `.repeat(1000)));
  return registerModel({
    root,
    modelDir: dir,
    runId: null,
    dataset: { name: 'test', manifestHash: 'test' },
    metrics: { precision: 0.9, recall: 0.9, f1: 0.9, accuracy: 0.9, rocAuc: 0.9, prAuc: 0.9 },
    threshold: 0.5,
    thresholdStrategy: 'fixed',
    imageSize: 32,
  });
}

function location(prefix: string, store: S3Store = s3.store): ModelsLocation {
  return { ...parseModelsUrl(`s3://${s3.bucket}/${prefix}`), store };
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-publish-'));
  s3 = await startTestS3('publish');
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('registry publish', () => {
  it('publishes version folders with a checksum manifest and the pointer; a reader gets identical files', async () => {
    const root = path.join(tmp, 'reg-a');
    const v1 = await registerFake(root, 'a1');
    const v2 = await registerFake(root, 'a2');
    await promote(v1.version, { root, force: true, reason: 'test' });
    const loc = location('first');
    const r = await publishRegistry(loc, { root, versions: 'all' });
    expect(r.versions.map((v) => [v.version, v.uploaded])).toEqual([[1, true], [2, true]]);
    expect(await listRemoteVersions(loc)).toEqual([1, 2]);

    const { manifest, sha256 } = (await readRemoteManifest(loc, 2))!;
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['card.json', 'group1-shard1of1.bin', 'model.json']);
    for (const f of manifest.files) {
      const local = await fs.readFile(path.join(v2.dir, f.path));
      expect(f.sha256).toBe(sha(local));
      expect(f.size).toBe(local.length);
      expect(sha(await s3.store.getObject(s3.bucket, `first/versions/v2/${f.path}`))).toBe(f.sha256);
    }
    expect(manifest.backbones).toEqual([{ backbone: FAKE_BACKBONE, imageSize: 256, view: 'whole-v1' }]);
    expect(sha256).toBe(sha(await s3.store.getObject(s3.bucket, 'first/versions/v2/manifest.json')));

    const pointer = (await readRemotePointer(loc))!;
    expect(pointer.version).toBe(1);
    expect(pointer.manifestSha256).toBe((await readRemoteManifest(loc, 1))!.sha256);

    const cache = path.join(tmp, 'cache-a');
    const got = await downloadRemoteVersion(loc, pointer, cache);
    expect(got.version).toBe(1);
    expect(got.card).toEqual(v1.card);
    for (const f of ['model.json', 'group1-shard1of1.bin', 'card.json']) {
      expect(sha(await fs.readFile(path.join(got.dir, f)))).toBe(sha(await fs.readFile(path.join(v1.dir, f))));
    }

    // Publishing again uploads nothing; promotion and rollback move the pointer.
    await promote(v2.version, { root, force: true, reason: 'test' });
    const again = await publishRegistry(loc, { root });
    expect(again.versions).toEqual([expect.objectContaining({ version: 2, uploaded: false })]);
    expect((await readRemotePointer(loc))!.version).toBe(2);
    await rollback(1, { root, reason: 'test' });
    await publishRegistry(loc, { root });
    expect((await readRemotePointer(loc))!.version).toBe(1);
  }, 120_000);

  it('keeps a half-published version invisible: the pointer and the readers stay on the last complete one', async () => {
    const root = path.join(tmp, 'reg-b');
    const v1 = await registerFake(root, 'b1');
    await promote(v1.version, { root, force: true, reason: 'test' });
    const loc = location('half/');
    await publishRegistry(loc, { root });
    const reader = new RemotePromotedReader(loc, { cacheDir: path.join(tmp, 'cache-b') });
    expect((await reader.read())!.version).toBe(1);

    const v2 = await registerFake(root, 'b2');
    await promote(v2.version, { root, force: true, reason: 'test' });
    // The publisher dies when it gets to the manifest: every file of v2 is uploaded, the manifest is not.
    const failing = Object.create(s3.store) as S3Store;
    failing.putObject = async (bucket, key, body, type) => {
      if (key.endsWith('/manifest.json')) throw new Error('publisher killed');
      return s3.store.putObject(bucket, key, body, type);
    };
    await expect(publishRegistry(location('half/', failing), { root })).rejects.toThrow('publisher killed');
    expect((await s3.store.listKeys(s3.bucket, 'half/versions/v2/')).length).toBe(3);
    expect(await listRemoteVersions(loc)).toEqual([1]);
    expect(await readRemoteManifest(loc, 2)).toBeNull();
    expect((await readRemotePointer(loc))!.version).toBe(1);
    expect((await reader.read())!.version).toBe(1);

    // A pointer naming a version without its manifest is refused, and nothing lands in the cache.
    const pointer = (await readRemotePointer(loc))!;
    const cache = path.join(tmp, 'cache-b2');
    await expect(downloadRemoteVersion(loc, { ...pointer, version: 2, card: { ...pointer.card, version: 2 } }, cache)).rejects.toThrow(/no manifest/);
    expect(await fs.readdir(cache).catch(() => [])).toEqual([]);

    // The next publish completes it.
    await publishRegistry(loc, { root });
    expect(await listRemoteVersions(loc)).toEqual([1, 2]);
    expect((await reader.read())!.version).toBe(2);
  }, 120_000);

  it('refuses a bundle whose files do not match the manifest, leaving no partial copy in the cache', async () => {
    const root = path.join(tmp, 'reg-c');
    const v1 = await registerFake(root, 'c1');
    await promote(v1.version, { root, force: true, reason: 'test' });
    const loc = location('tampered/');
    await publishRegistry(loc, { root });
    await s3.store.putObject(s3.bucket, 'tampered/versions/v1/group1-shard1of1.bin', Buffer.from('not the weights'));
    const cache = path.join(tmp, 'cache-c');
    const reader = new RemotePromotedReader(loc, { cacheDir: cache, retryMs: 60_000 });
    await expect(reader.read()).rejects.toThrow(/group1-shard1of1.bin does not match its manifest/);
    expect(reader.status()).toMatchObject({ state: 'invalid', version: null });
    expect(await fs.readdir(cache)).toEqual([]);
  }, 120_000);

  it('refuses to overwrite a published version with another model of the same number', async () => {
    const a = path.join(tmp, 'reg-d1');
    const b = path.join(tmp, 'reg-d2');
    await registerFake(a, 'd1');
    await registerFake(b, 'd2');
    const loc = location('shared/');
    await publishVersion(loc, 1, { root: a });
    await expect(publishVersion(loc, 1, { root: b })).rejects.toThrow(/holds a different model/);
  }, 120_000);

  it('reports an unreachable S3 as unavailable and backs off', async () => {
    const dead = new S3Store({ endpoint: 'http://127.0.0.1:9', accessKeyId: 'x', secretAccessKey: 'y', region: 'us-east-1' }, { maxAttempts: 1, connectTimeoutMs: 500 });
    try {
      const reader = new RemotePromotedReader({ ...parseModelsUrl('s3://nowhere/models'), store: dead }, { cacheDir: path.join(tmp, 'cache-e'), retryMs: 60_000 });
      const first = await reader.read().then(() => null, (e: Error) => e);
      expect(first?.message).toMatch(/model source s3:\/\/nowhere\/models\/: S3 endpoint .* unreachable/);
      expect(reader.status()).toMatchObject({ state: 'unavailable', url: 's3://nowhere/models/' });
      expect(Date.parse(reader.status().nextAttemptAt!)).toBeGreaterThan(Date.now() + 20_000);
      // Within the backoff the same error comes back without a request.
      let sent = 0;
      const send = dead.client.send.bind(dead.client);
      dead.client.send = ((...args: Parameters<typeof send>) => {
        sent++;
        return send(...args);
      }) as typeof send;
      expect(await reader.read().catch((e: Error) => e)).toBe(first);
      expect(sent).toBe(0);
    } finally {
      dead.close();
    }
  }, 60_000);

  it('CLI: promote and rollback publish by themselves when a bucket is configured; publish --all --to', async () => {
    const home = path.join(tmp, 'cli-home');
    const env = {
      AREYOUACAT_HOME: home,
      ...s3Env(s3),
    };
    const restoreEnv = saveEnv(Object.keys(env));
    Object.assign(process.env, env);
    const cli = async (...args: string[]) => {
      let out = '';
      let err = '';
      const o = vi.spyOn(process.stdout, 'write').mockImplementation((t) => ((out += String(t)), true));
      const e = vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((err += String(t)), true));
      process.exitCode = 0;
      try {
        await buildProgram([registerRegistryCommands]).exitOverride().parseAsync(['node', 'areyouacat', ...args]);
      } finally {
        o.mockRestore();
        e.mockRestore();
      }
      const code = Number(process.exitCode ?? 0);
      process.exitCode = 0;
      return { out, err, code };
    };
    try {
      const root = path.join(home, 'registry');
      await registerFake(root, 'e1');
      await registerFake(root, 'e2');
      const loc = location('models/');
      const first = await cli('registry', 'promote', '1', '--force', '--reason', 'test');
      expect(first.err).toContain('promoted.json names v1');
      expect(first.code).toBe(0);
      expect((await readRemotePointer(loc))!.version).toBe(1);
      expect((await cli('registry', 'promote', '2', '--force', '--reason', 'test')).code).toBe(0);
      expect((await readRemotePointer(loc))!.version).toBe(2);
      const back = await cli('registry', 'rollback', '1', '--reason', 'test');
      expect(back.code).toBe(0);
      expect(back.err).toContain('promoted.json names v1');
      expect((await readRemotePointer(loc))!.version).toBe(1);

      const other = await cli('registry', 'publish', '--all', '--to', `s3://${s3.bucket}/elsewhere`, '--json');
      expect(other.code).toBe(0);
      expect(JSON.parse(other.out)).toMatchObject({ url: `s3://${s3.bucket}/elsewhere/`, versions: [{ version: 1 }, { version: 2 }], pointer: { version: 1 } });
      expect(await listRemoteVersions(location('elsewhere'))).toEqual([1, 2]);

      delete process.env.AREYOUACAT_S3_BUCKET;
      const nowhere = await cli('registry', 'publish');
      expect(nowhere.code).not.toBe(0);
      expect(nowhere.err).toMatch(/nowhere to publish/);
    } finally {
      restoreEnv();
    }
  }, 120_000);
  it('puts the ONNX export beside the bundle and names it in the manifest (none for a backbone without an ONNX export)', async () => {
    const root = path.join(tmp, 'reg-onnx');
    await selectBackend({ prefer: 'wasm' });
    const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize: 32, filters: [4, 8, 8], denseUnits: 8 }, 1);
    const dir = path.join(tmp, 'cnn-for-onnx');
    await saveModel(model, dir);
    model.dispose();
    const cnn = await registerModel({
      root,
      modelDir: dir,
      runId: null,
      dataset: { name: 'test', manifestHash: 'test' },
      metrics: { precision: 0.9, recall: 0.9, f1: 0.9, accuracy: 0.9, rocAuc: 0.9, prAuc: 0.9 },
      threshold: 0.5,
      thresholdStrategy: 'fixed',
      imageSize: 32,
    });
    const noOnnx = await registerFake(root, 'no-onnx');
    const loc = location('with-onnx');
    const logged: string[] = [];
    await publishRegistry(loc, { root, versions: 'all', log: (m) => logged.push(m) });

    const { manifest } = (await readRemoteManifest(loc, cnn.version))!;
    expect(manifest.onnx).toMatchObject({ path: 'model.onnx' });
    expect(manifest.files.map((f) => f.path)).not.toContain('model.onnx');
    const onnx = await s3.store.getObject(s3.bucket, `with-onnx/versions/v${cnn.version}/model.onnx`);
    expect(onnx.length).toBe(manifest.onnx!.size);
    expect(sha(onnx)).toBe(manifest.onnx!.sha256);

    expect((await readRemoteManifest(loc, noOnnx.version))!.manifest.onnx).toBeUndefined();
    expect(logged.join('\n')).toMatch(new RegExp(`v${noOnnx.version}: no ONNX file published \\(.*no ONNX stages for the backbone "${FAKE_BACKBONE}"`));
  });
});
