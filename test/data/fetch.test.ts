import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchDataset, fetchedDir } from '../../src/data/fetch/fetch.js';
import { CALTECH_101, OXFORD_IIIT_PET, type FetchRecipe } from '../../src/data/fetch/recipes.js';
import { FolderSource } from '../../src/data/sources/folder.js';
import { paths } from '../../src/storage/paths.js';
import { makeTarGz, makeZip, noiseJpeg, startFileServer, type FileServer } from './fetch-helpers.js';

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

let server: FileServer;
let petsArchive: Buffer;
let home: string;
const savedHome = process.env.AREYOUACAT_HOME;

beforeAll(async () => {
  server = await startFileServer();
  petsArchive = await makeTarGz({
    'images/Abyssinian_1.jpg': await noiseJpeg(160, 1),
    'images/British_Shorthair_12.jpg': await noiseJpeg(120, 2),
    'images/beagle_1.jpg': await noiseJpeg(160, 3),
    'images/american_pit_bull_terrier_7.jpg': await noiseJpeg(100, 4),
    'images/Abyssinian_100.mat': 'not a photo',
    'README.txt': 'about the set',
  });
  server.files.set('/pets/images.tar.gz', petsArchive);
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-fetch-'));
  process.env.AREYOUACAT_HOME = home;
  server.log.length = 0;
});
afterEach(async () => {
  if (savedHome === undefined) delete process.env.AREYOUACAT_HOME;
  else process.env.AREYOUACAT_HOME = savedHome;
  await fs.rm(home, { recursive: true, force: true });
});

/** The Oxford-IIIT Pet recipe, pointed at the local server with the test archive's checksum. */
function petsRecipe(over: Partial<FetchRecipe> = {}): FetchRecipe {
  return { ...OXFORD_IIIT_PET, url: server.url('/pets/images.tar.gz'), md5: undefined, bytes: undefined, sha256: sha256(petsArchive), ...over };
}

async function leftovers(): Promise<string[]> {
  const out: string[] = [];
  for (const d of [paths.dataset('oxford-iiit-pet'), paths.downloads()]) {
    try {
      out.push(...(await fs.readdir(d)).map((f) => `${path.basename(d)}/${f}`));
    } catch {
      /* missing folder */
    }
  }
  return out.sort();
}

describe('fetchDataset', () => {
  it('downloads, verifies and lays out cats and dogs by breed name, with a manifest', async () => {
    const progress: Array<[number, number, string | undefined]> = [];
    const r = await fetchDataset(petsRecipe(), { onProgress: (d, t, l) => progress.push([d, t, l]) });
    expect(r.dir).toBe(fetchedDir('oxford-iiit-pet'));
    expect(r.groups).toEqual({ cat: 2, dog: 2 });
    expect(r.sha256).toBe(sha256(petsArchive));
    expect(r.verifiedWith).toEqual(['sha256']);
    const src = new FolderSource(r.dir);
    const items = await src.list();
    expect(items.map((i) => [i.path, i.group, i.source])).toEqual([
      ['cat/Abyssinian_1.jpg', 'cat', 'oxford-iiit-pet'],
      ['cat/British_Shorthair_12.jpg', 'cat', 'oxford-iiit-pet'],
      ['dog/american_pit_bull_terrier_7.jpg', 'dog', 'oxford-iiit-pet'],
      ['dog/beagle_1.jpg', 'dog', 'oxford-iiit-pet'],
    ]);
    expect((await src.read(items[3])).equals(await noiseJpeg(160, 3))).toBe(true);
    const downloads = progress.filter((p) => p[2] === 'download');
    expect(downloads.at(-1)).toEqual([petsArchive.length, petsArchive.length, 'download']);
    expect(progress.at(-1)?.[2]).toBe('unpack');
    // A second fetch finds the data set and does nothing.
    const again = await fetchDataset(petsRecipe());
    expect(again.alreadyThere).toBe(true);
    expect(server.log.length).toBe(1);
    expect(await leftovers()).toEqual(['downloads/oxford-iiit-pet-images.tar.gz', 'oxford-iiit-pet/fetch.json', 'oxford-iiit-pet/raw']);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const cutAt = Math.floor(petsArchive.length / 2);
    server.cutNext(cutAt);
    await expect(fetchDataset(petsRecipe())).rejects.toThrow(/interrupted after \d+ bytes.*run again to resume/);
    const part = path.join(paths.downloads(), 'oxford-iiit-pet-images.tar.gz.part');
    expect((await fs.stat(part)).size).toBe(cutAt);
    expect(await leftovers()).toEqual([ // nothing unpacked, the partial download kept for a resume
      'downloads/oxford-iiit-pet-images.tar.gz.part',
      'downloads/oxford-iiit-pet-images.tar.gz.part.json',
    ]);

    const r = await fetchDataset(petsRecipe());
    expect(r.groups).toEqual({ cat: 2, dog: 2 });
    expect(server.log.map((l) => [l.status, l.range, l.bytesSent])).toEqual([
      [200, undefined, cutAt],
      [206, `bytes=${cutAt}-`, petsArchive.length - cutAt],
    ]);
  });

  it('restarts from zero when the partial file turns out to be corrupt', async () => {
    const url = server.url('/pets/images.tar.gz');
    const part = path.join(paths.downloads(), 'oxford-iiit-pet-images.tar.gz.part');
    await fs.mkdir(paths.downloads(), { recursive: true });
    await fs.writeFile(part, crypto.randomBytes(1000));
    await fs.writeFile(`${part}.json`, JSON.stringify({ url }));
    const r = await fetchDataset(petsRecipe());
    expect(r.sha256).toBe(sha256(petsArchive));
    expect(server.log.map((l) => [l.status, l.range])).toEqual([
      [206, 'bytes=1000-'],
      [200, undefined],
    ]);
  });

  it('fails clearly on a wrong sha256 and leaves no download and no unpacked files', async () => {
    const wrong = '0'.repeat(64);
    await expect(fetchDataset(petsRecipe({ sha256: wrong }))).rejects.toThrow(
      `expected sha256 ${wrong}, got ${sha256(petsArchive)}; it was deleted`,
    );
    expect(await leftovers()).toEqual([]);
  });

  it('records the observed sha256 when the recipe pins none, then holds later downloads to it', async () => {
    const r = await fetchDataset(petsRecipe({ sha256: undefined }));
    expect(r.verifiedWith).toEqual([]);
    expect(r.sha256).toBe(sha256(petsArchive));
    const record = JSON.parse(await fs.readFile(path.join(paths.dataset('oxford-iiit-pet'), 'fetch.json'), 'utf8'));
    expect(record.sha256).toBe(sha256(petsArchive));

    // Upstream now serves different bytes: a forced re-fetch must not accept them silently.
    await fs.rm(path.join(paths.downloads(), 'oxford-iiit-pet-images.tar.gz'));
    server.files.set('/pets/other.tar.gz', await makeTarGz({ 'images/Bengal_1.jpg': await noiseJpeg(64, 9) }));
    const moved = petsRecipe({ sha256: undefined });
    await expect(fetchDataset(moved, { force: true, url: server.url('/pets/other.tar.gz') })).resolves.toMatchObject({
      groups: { cat: 1 }, // a different URL is a different file: recorded anew
    });
    server.files.set('/pets/other.tar.gz', await makeTarGz({ 'images/Bengal_2.jpg': await noiseJpeg(64, 10) }));
    await fs.rm(path.join(paths.downloads(), 'oxford-iiit-pet-images.tar.gz'));
    await expect(fetchDataset(moved, { force: true, url: server.url('/pets/other.tar.gz') })).rejects.toThrow(/expected sha256/);
    // The earlier data set is untouched.
    expect(await fs.readdir(path.join(fetchedDir('oxford-iiit-pet'), 'cat'))).toEqual(['Bengal_1.jpg']);
  });

  it('unpacks Caltech-101: a zip holding a tar.gz; faces -> selfie, objects -> misc, animals left out', async () => {
    const inner = await makeTarGz({
      '101_ObjectCategories/Faces_easy/image_0001.jpg': await noiseJpeg(80, 11),
      '101_ObjectCategories/Faces/image_0001.jpg': await noiseJpeg(80, 12),
      '101_ObjectCategories/accordion/image_0001.jpg': await noiseJpeg(80, 13),
      '101_ObjectCategories/Leopards/image_0001.jpg': await noiseJpeg(80, 14),
      '101_ObjectCategories/garfield/image_0001.jpg': await noiseJpeg(80, 15),
      '101_ObjectCategories/BACKGROUND_Google/image_0001.jpg': await noiseJpeg(80, 16),
    });
    const zip = await makeZip({
      'caltech-101/101_ObjectCategories.tar.gz': inner,
      'caltech-101/Annotations.tar': 'annotations',
      '__MACOSX/caltech-101/._101_ObjectCategories.tar.gz': 'resource fork',
    });
    server.files.set('/caltech/caltech-101.zip', zip);
    const recipe = { ...CALTECH_101, url: server.url('/caltech/caltech-101.zip'), bytes: undefined, sha256: sha256(zip) };
    const r = await fetchDataset(recipe);
    expect(r.groups).toEqual({ selfie: 2, misc: 1 });
    const items = await new FolderSource(r.dir).list();
    expect(items.map((i) => [i.path, i.source])).toEqual([
      ['misc/accordion_image_0001.jpg', 'caltech-101/accordion'],
      ['selfie/Faces_easy_image_0001.jpg', 'caltech-101/Faces_easy'],
      ['selfie/Faces_image_0001.jpg', 'caltech-101/Faces'],
    ]);
  });

  it('reports an HTTP error and an unreachable host', async () => {
    await expect(fetchDataset(petsRecipe({ url: server.url('/missing.tar.gz') }))).rejects.toThrow(/HTTP 404/);
    await expect(fetchDataset(petsRecipe({ url: 'http://127.0.0.1:1/x.tar.gz' }))).rejects.toThrow(
      /cannot download http:\/\/127\.0\.0\.1:1\/x\.tar\.gz: ECONNREFUSED/,
    );
  });
});
