import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../src/storage/local-s3.js';
import { paths } from '../../src/storage/paths.js';
import { S3Store } from '../../src/storage/s3-client.js';

describe('startLocalS3', () => {
  let home: string;
  const saved = process.env.AREYOUACAT_HOME;
  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-local-s3-'));
    process.env.AREYOUACAT_HOME = home;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.AREYOUACAT_HOME;
    else process.env.AREYOUACAT_HOME = saved;
    await fs.rm(home, { recursive: true, force: true });
  });

  it('keeps objects under the data dir across restarts', async () => {
    const first = await startLocalS3({ buckets: ['feedback'] });
    expect(first.dir).toBe(paths.s3());
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const store = new S3Store({ ...first });
    await store.putObject('feedback', 'a/b.json', '{"ok":true}', 'application/json');
    store.close();
    await first.stop();

    const second = await startLocalS3({ buckets: ['feedback'] });
    const again = new S3Store({ ...second });
    expect((await again.getObject('feedback', 'a/b.json')).toString()).toBe('{"ok":true}');
    expect((await again.listKeys('feedback')).map((o) => o.key)).toEqual(['a/b.json']);
    again.close();
    await second.stop();
  });

  it('runs s3rver in a child process, never in this one, and stops it', async () => {
    const s3 = await startLocalS3({ buckets: ['feedback'] });
    const pid = s3.pid();
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(() => process.kill(pid!, 0)).not.toThrow();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes(`${path.sep}s3rver${path.sep}`));
    expect(loaded).toEqual([]);
    await s3.stop();
    expect(s3.pid()).toBeUndefined();
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it('survives a crash of the server process: restarted on the same port with its objects', async () => {
    const lines: string[] = [];
    const s3 = await startLocalS3({ buckets: ['feedback'], log: (l) => lines.push(l) });
    const store = new S3Store({ ...s3, bucket: 'feedback' }, { connectTimeoutMs: 1000, requestTimeoutMs: 2000, maxAttempts: 1 });
    await store.putObject('feedback', 'kept.json', '{"n":1}', 'application/json');
    const first = s3.pid()!;
    process.kill(first, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    let body: string | undefined;
    while (body === undefined) {
      if (Date.now() > deadline) throw new Error(`the local S3 did not come back: ${lines.join('; ')}`);
      body = await store.getObject('feedback', 'kept.json').then((b) => b.toString(), () => undefined);
      if (body === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    expect(body).toBe('{"n":1}');
    expect(s3.pid()).not.toBe(first);
    expect(lines.some((l) => /exited \(SIGKILL\)/.test(l))).toBe(true);
    store.close();
    await s3.stop();
  }, 90_000);

  it('says which port it could not take', async () => {
    const a = await startLocalS3({ dir: path.join(home, 'a') });
    const port = Number(new URL(a.endpoint).port);
    await expect(startLocalS3({ dir: path.join(home, 'b'), port })).rejects.toThrow(
      `cannot start the local S3 server on 127.0.0.1:${port}`,
    );
    await a.stop();
  });
});
