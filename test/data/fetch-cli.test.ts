import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTarGz, noiseJpeg, startFileServer, type FileServer } from './fetch-helpers.js';

const run = promisify(execFile);

describe('areyouacat data fetch', () => {
  let server: FileServer;
  let home: string;
  let archive: Buffer;
  beforeAll(async () => {
    server = await startFileServer();
    archive = await makeTarGz({
      'images/Sphynx_3.jpg': await noiseJpeg(64, 21),
      'images/pug_4.jpg': await noiseJpeg(64, 22),
    });
    server.files.set('/images.tar.gz', archive);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-fetch-cli-'));
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(home, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    run(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'src/cli/main.ts', 'data', 'fetch', ...args], {
      env: { ...process.env, AREYOUACAT_HOME: home },
    });

  // One process start (the CLI loads every command module, which is slow on a busy machine).
  it('passes --url and --sha256 to the fetcher and refuses a mirror whose bytes are not the official archive', async () => {
    const sha = crypto.createHash('sha256').update(archive).digest('hex');
    // The given sha256 matches, but the recipe also pins the official archive's md5.
    const err = (await cli('oxford-iiit-pet', '--url', server.url('/images.tar.gz'), '--sha256', sha).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(
      /error: download of http:\/\/127\.0\.0\.1:\d+\/images\.tar\.gz is damaged or not the expected file: expected md5 5c4f3ee8e5d25df40f4fd59a7f44e54c, got [0-9a-f]{32}; it was deleted/,
    );
    expect(server.log.map((l) => l.status)).toEqual([200]);
    expect(await fs.readdir(path.join(home, 'downloads'))).toEqual([]);
  });
});
