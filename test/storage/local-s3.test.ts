import fs from 'node:fs/promises';
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

  it('says which port it could not take', async () => {
    const a = await startLocalS3({ dir: path.join(home, 'a') });
    const port = Number(new URL(a.endpoint).port);
    await expect(startLocalS3({ dir: path.join(home, 'b'), port })).rejects.toThrow(
      `cannot start the local S3 server on 127.0.0.1:${port}`,
    );
    await a.stop();
  });
});
