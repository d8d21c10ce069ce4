import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { registerServeCommands } from '../../src/cli/commands/serve.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { S3_ENV } from '../../src/storage/s3-config.js';
import { paths } from '../../src/storage/paths.js';
import { makeJpeg } from './helpers/images.js';
import { form, rawRequest, useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let srv: RunningServer;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  home = await useTempHome('embedded');
  for (const k of Object.values(S3_ENV)) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  srv = await startServer({ port: 0, siteRoot: null, rateLimit: null, snapshotMs: 0, log: () => undefined });
});

afterAll(async () => {
  await srv?.close();
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  await home?.restore();
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('serve with no S3 configured', () => {
  it('starts a local S3 under the data folder and stores feedback there', async () => {
    expect(srv.localS3).not.toBeNull();
    expect(srv.localS3!.dir).toBe(paths.s3());
    const res = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      body: form({ consent: 'true', answer: 'cat', prediction: 'cat', photo: { data: await makeJpeg(), filename: 'a.jpg', type: 'image/jpeg' } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const keys = (await srv.s3.store.listKeys(srv.s3.bucket, 'feedback/')).map((o) => o.key);
    expect(keys.filter((k) => k.includes(id))).toHaveLength(2);
    expect((await filesUnder(paths.s3())).some((f) => f.includes(id))).toBe(true);
  });

  it('refuses a multipart body that ends before its closing boundary', async () => {
    const body = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntrue\r\n--XyZ\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff',
      'latin1',
    );
    const res = await rawRequest(`${srv.url}/api/feedback`, {
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ', 'content-length': String(body.length) },
      body,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('truncated_body');
  });

  it('purges old feedback with `areyouacat feedback purge --older-than DAYS`', async () => {
    await srv.s3.store.putObject(srv.s3.bucket, 'feedback/photos/2021-03-04/old.jpg', Buffer.from('x'));
    await srv.s3.store.putObject(srv.s3.bucket, 'feedback/records/2021-03-04/old.json', '{}');
    const program = new Command().exitOverride();
    registerServeCommands(program);
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(['node', 'areyouacat', 'feedback', 'purge', '--older-than', '30', '--json']);
    } finally {
      process.stdout.write = orig;
    }
    expect(JSON.parse(writes.join(''))).toMatchObject({ deletedObjects: 2, deletedQueued: 0 });
    const keys = (await srv.s3.store.listKeys(srv.s3.bucket, 'feedback/')).map((o) => o.key);
    expect(keys.some((k) => k.includes('2021-03-04'))).toBe(false);
    expect(keys.length).toBe(2); // today's photo and record stay
  });
});
