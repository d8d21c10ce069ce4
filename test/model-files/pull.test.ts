import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGENET_MOBILENET_V1,
  ModelFileChecksumError,
  ModelFilesUnavailableError,
  modelFileLayout,
  presenceOf,
  pullModelFiles,
  verifyModelFiles,
} from '../../src/model-files/index.js';

// The local mirror of pretrained files that tests use instead of the publisher (see README).
const MIRROR = path.resolve(process.env.AREYOUACAT_MODEL_MIRROR ?? '../shared/models');
const have = await fs.access(path.join(MIRROR, IMAGENET_MOBILENET_V1.folder, 'model.json')).then(() => true, () => false);
const ID = IMAGENET_MOBILENET_V1.id;

/** A real HTTP server over the mirror folder, with switches to corrupt or cut one file and a request log. */
function mirrorServer() {
  const requests: string[] = [];
  const faults = { corrupt: '', cutOnce: '' };
  const server = http.createServer((req, res) => void answer(req, res));
  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
    requests.push(name);
    let data: Buffer;
    try {
      data = await fs.readFile(path.join(MIRROR, path.normalize(name).replace(/^(\.\.[/\\])+/, '')));
    } catch {
      res.writeHead(404).end();
      return;
    }
    const file = path.basename(name);
    if (file === faults.corrupt) data = Buffer.concat([data.subarray(0, data.length - 1), Buffer.from([data[data.length - 1] ^ 0xff])]);
    res.writeHead(200, { 'content-length': data.length });
    if (file === faults.cutOnce) {
      faults.cutOnce = '';
      res.write(data.subarray(0, Math.floor(data.length / 2)), () => res.destroy());
      return;
    }
    res.end(data);
  }
  return { server, requests, faults };
}

describe.skipIf(!have)('pulling pretrained files', () => {
  let home: string;
  let url: string;
  const mirror = mirrorServer();
  const saved = process.env.AREYOUACAT_HOME;

  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-pull-'));
    await new Promise<void>((resolve) => mirror.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(mirror.server.address() as net.AddressInfo).port}/`;
  });
  afterAll(async () => {
    mirror.server.close();
    process.env.AREYOUACAT_HOME = saved;
    await fs.rm(home, { recursive: true, force: true });
  });

  const freshHome = async (name: string) => {
    process.env.AREYOUACAT_HOME = path.join(home, name);
    await fs.mkdir(process.env.AREYOUACAT_HOME, { recursive: true });
  };

  it('downloads over HTTP, checks every SHA-256, and installs the folder whole', async () => {
    await freshHome('ok');
    expect((await presenceOf(IMAGENET_MOBILENET_V1)).presence).toBe('missing');
    const progress: number[] = [];
    const dir = await pullModelFiles(ID, { mirror: url, onProgress: (done) => progress.push(done) });
    expect(dir).toBe(modelFileLayout.cached(ID));
    expect(progress.at(-1)).toBe(IMAGENET_MOBILENET_V1.files.reduce((n, f) => n + f.bytes, 0));
    expect((await fs.readdir(dir)).sort()).toEqual(IMAGENET_MOBILENET_V1.files.map((f) => f.name).sort());
    await expect(fs.access(modelFileLayout.partial(ID))).rejects.toThrow();
    expect((await verifyModelFiles(IMAGENET_MOBILENET_V1)).problems).toEqual([]);
    // A second pull finds it cached and asks the server nothing.
    const before = mirror.requests.length;
    await pullModelFiles(ID, { mirror: url });
    expect(mirror.requests.length).toBe(before);
    // A damaged cached file is found by verify.
    await fs.appendFile(path.join(dir, 'group3-shard1of1'), 'x');
    expect((await verifyModelFiles(IMAGENET_MOBILENET_V1)).problems).toEqual(['group3-shard1of1: does not match its SHA-256']);
  }, 60_000);

  it('refuses a file that does not match its pin and never installs the folder', async () => {
    await freshHome('corrupt');
    mirror.faults.corrupt = 'group7-shard1of1';
    try {
      await expect(pullModelFiles(ID, { mirror: url })).rejects.toThrow(ModelFileChecksumError);
    } finally {
      mirror.faults.corrupt = '';
    }
    expect((await presenceOf(IMAGENET_MOBILENET_V1)).presence).toBe('missing');
    const partial = await fs.readdir(modelFileLayout.partial(ID));
    expect(partial).not.toContain('group7-shard1of1');
    expect(partial.some((f) => f.endsWith('.download'))).toBe(false);
  }, 60_000);

  it('recovers from an interrupted download, keeping the files already verified', async () => {
    await freshHome('cut');
    mirror.faults.cutOnce = 'group20-shard1of1';
    await expect(pullModelFiles(ID, { mirror: url })).rejects.toThrow(ModelFilesUnavailableError);
    expect((await presenceOf(IMAGENET_MOBILENET_V1)).presence).toBe('missing');
    const before = mirror.requests.length;
    await pullModelFiles(ID, { mirror: url });
    const second = mirror.requests.slice(before).map((r) => path.basename(r));
    expect(second).toContain('group20-shard1of1');
    expect(second).not.toContain('model.json'); // verified in the first attempt, kept
    expect((await verifyModelFiles(IMAGENET_MOBILENET_V1)).problems).toEqual([]);
  }, 60_000);

  it('lets several processes of one data folder pull at once: all get the installed files', async () => {
    await freshHome('together');
    // Four pulls at once share the .partial folder; the first to finish installs it by one rename.
    const dirs = await Promise.all([url, MIRROR, url, MIRROR].map((mirror) => pullModelFiles(ID, { mirror })));
    expect(new Set(dirs)).toEqual(new Set([modelFileLayout.cached(ID)]));
    expect((await verifyModelFiles(IMAGENET_MOBILENET_V1)).problems).toEqual([]);
  }, 60_000);

  it('copies from a mirror folder (AREYOUACAT_MODEL_MIRROR as a path)', async () => {
    await freshHome('folder');
    await pullModelFiles(ID, { mirror: MIRROR });
    expect((await presenceOf(IMAGENET_MOBILENET_V1)).presence).toBe('cached');
  }, 60_000);

  it('without a reachable source: a clear error within seconds, naming the pull command, the mirror and the offline backbone', async () => {
    await freshHome('offline');
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const t0 = Date.now();
    const err = await pullModelFiles(ID, { mirror: `http://127.0.0.1:${port}/` }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelFilesUnavailableError);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((err as Error).message).toMatch(/areyouacat models pull imagenet-mobilenet-v1/);
    expect((err as Error).message).toMatch(/AREYOUACAT_MODEL_MIRROR/);
    expect((err as Error).message).toMatch(/--backbone coco-centernet/);
    // A server that accepts and never answers: bounded by the stall timeout.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const t1 = Date.now();
      await expect(pullModelFiles(ID, { mirror: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`, stallMs: 1500 })).rejects.toThrow(ModelFilesUnavailableError);
      expect(Date.now() - t1).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  }, 60_000);
});
