import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJson, writeJsonAtomic } from '../../src/storage/atomic.js';

describe('atomic JSON files', () => {
  it('round-trips and leaves no temp files behind', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-atomic-'));
    const file = path.join(dir, 'nested', 'x.json');
    await writeJsonAtomic(file, { a: 1 });
    await writeJsonAtomic(file, { a: 2 });
    expect(await readJson(file)).toEqual({ a: 2 });
    expect(await fs.readdir(path.dirname(file))).toEqual(['x.json']);
  });

  it('names the file when it is damaged', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-atomic-'));
    const file = path.join(dir, 'broken.json');
    await fs.writeFile(file, '{"a": ');
    await expect(readJson(file)).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(readJson(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json/);
  });
});
