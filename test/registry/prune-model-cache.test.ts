import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneModelCache } from '../../src/registry/remote.js';

describe("a replica's cache of downloaded model versions", () => {
  let dir: string;
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const make = async (name: string, ageMinutes: number) => {
    const d = path.join(dir, name);
    await fs.mkdir(d, { recursive: true });
    await fs.writeFile(path.join(d, 'card.json'), '{}');
    const at = new Date(Date.now() - ageMinutes * 60_000);
    await fs.utimes(d, at, at);
  };

  it('keeps the version in use and the most recently used others, and removes old temp folders only', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-prune-'));
    await make('v1-aaaa', 50);
    await make('v2-bbbb', 40); // in use (a rollback to an old version)
    await make('v3-cccc', 30);
    await make('v4-dddd', 20);
    await make('v5-eeee', 10);
    await make('.tmp-1-dead', 120);
    await make('.tmp-2-live', 1);
    await make('notes', 500);
    const removed = await pruneModelCache(dir, 3, path.join(dir, 'v2-bbbb'));
    expect(removed.map((d) => path.basename(d)).sort()).toEqual(['.tmp-1-dead', 'v1-aaaa', 'v3-cccc']);
    expect((await fs.readdir(dir)).sort()).toEqual(['.tmp-2-live', 'notes', 'v2-bbbb', 'v4-dddd', 'v5-eeee']);
  });

  it('a missing cache folder is nothing to prune', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-prune-'));
    expect(await pruneModelCache(path.join(dir, 'absent'), 3, '')).toEqual([]);
  });
});
