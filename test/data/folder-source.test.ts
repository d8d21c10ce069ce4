import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, manifestFromCsv, manifestToCsv } from '../../src/data/manifest.js';
import { FolderSource } from '../../src/data/sources/folder.js';
import { openSource, parseGroupMap } from '../../src/data/sources/index.js';
import { patternJpeg, tempDir, writeFile } from './fixtures.js';

describe('folder source', () => {
  let root: string;
  beforeAll(async () => {
    root = tempDir('folder');
    writeFile(root, 'kittens/a.jpg', await patternJpeg('a'));
    writeFile(root, 'kittens/nested/b.jpg', await patternJpeg('b'));
    writeFile(root, 'puppies/c.jpg', await patternJpeg('c'));
    writeFile(root, 'puppies/.hidden.jpg', 'x');
    writeFile(root, 'SOURCES.md', '# about');
    writeFile(root, 'manifest.csv', 'path,label,source,width,height,sha256\nkittens/a.jpg,cat,upstream-a,120,90,x\npuppies/gone.jpg,dog,upstream-b,1,1,y\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists <group>/* files with mapped group names and manifest sources, skipping top-level and hidden files', async () => {
    const src = new FolderSource(root, { groups: parseGroupMap('kittens=cat,puppies=dog') });
    const items = await src.list();
    expect(items).toEqual([
      { path: 'kittens/a.jpg', group: 'cat', source: 'upstream-a' },
      { path: 'kittens/nested/b.jpg', group: 'cat', source: path.basename(root) },
      { path: 'puppies/c.jpg', group: 'dog', source: path.basename(root) },
      { path: 'puppies/gone.jpg', group: 'dog', source: 'upstream-b' },
    ]);
    expect(src.id).toBe(`folder:${path.resolve(root)}`);
  });

  it('a file the manifest lists but the folder lacks is rejected as missing, not dropped', async () => {
    const { entries } = await buildManifest(new FolderSource(root, { groups: { kittens: 'cat', puppies: 'dog' } }));
    const gone = entries.find((e) => e.path === 'puppies/gone.jpg')!;
    expect(gone.status).toBe('rejected');
    expect(gone.reason).toBe('missing file');
    const a = entries.find((e) => e.path === 'kittens/a.jpg')!;
    expect(a).toMatchObject({ status: 'ok', label: 1, format: 'jpeg', width: 120, height: 90, source: 'upstream-a' });
    expect(entries.find((e) => e.path === 'puppies/c.jpg')!.label).toBe(0);
    // CSV round trip keeps every field.
    expect(manifestFromCsv(manifestToCsv(entries))).toEqual(entries);
  });

  it('refuses paths that escape the folder', async () => {
    await expect(new FolderSource(root).read({ path: '../outside.jpg', group: 'x', source: 'x' })).rejects.toThrow(/escapes/);
  });

  it('openSource: folders work, unknown kinds and missing folders get a clear error', async () => {
    expect((await openSource(root)).id).toBe(`folder:${path.resolve(root)}`);
    expect((await openSource(`folder:${root}`)).id).toBe(`folder:${path.resolve(root)}`);
    await expect(openSource('ftp://example/x')).rejects.toThrow(/unknown source/);
    await expect(openSource(path.join(root, 'nope'))).rejects.toThrow(/no such folder/);
    await expect(new FolderSource(path.join(root, 'nope')).list()).rejects.toThrow(/not found/);
  });
});
