import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/data/manifest.js';
import { S3Source } from '../../src/data/sources/s3.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

async function photo(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  const noise = Buffer.alloc(width * height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (rgb[i % 3] + ((i * 7919) % 61)) & 255;
  return sharp(noise, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

describe('S3Source', () => {
  let s3: TestS3;
  const files: Record<string, Buffer> = {};

  beforeAll(async () => {
    s3 = await startTestS3('source');
    files['cat/tabby.jpg'] = await photo(96, 80, [200, 150, 90]);
    files['cat/more/black.jpg'] = await photo(64, 64, [20, 20, 30]);
    files['dog/beagle.jpg'] = await photo(120, 90, [160, 120, 60]);
    files['kittens/small.jpg'] = await photo(70, 50, [220, 200, 180]);
    files['misc/notes.txt'] = Buffer.from('not an image');
    for (const [p, body] of Object.entries(files)) await s3.store.putObject(s3.bucket, `sets/v1/${p}`, body);
    // Not data: loose top-level files, hidden files, a neighbouring prefix.
    await s3.store.putObject(s3.bucket, 'sets/v1/README.md', '# about');
    await s3.store.putObject(s3.bucket, 'sets/v1/cat/.DS_Store', 'x');
    await s3.store.putObject(s3.bucket, 'sets/v10/cat/elsewhere.jpg', files['cat/tabby.jpg']);
    await s3.store.putObject(
      s3.bucket,
      'sets/v1/manifest.csv',
      'path,label,source\ncat/tabby.jpg,cat,shelter-photos\ndog/beagle.jpg,dog,dog-park\ndog/gone.jpg,dog,dog-park\n',
    );
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('lists group files under the prefix with sources from manifest.csv', async () => {
    const src = new S3Source(`s3://${s3.bucket}/sets/v1`, { store: s3.store, groups: { kittens: 'cat' } });
    expect(src.id).toBe(`s3://${s3.bucket}/sets/v1`);
    const items = await src.list();
    expect(items.map((i) => [i.path, i.group, i.source])).toEqual([
      ['cat/more/black.jpg', 'cat', 'v1'],
      ['cat/tabby.jpg', 'cat', 'shelter-photos'],
      ['dog/beagle.jpg', 'dog', 'dog-park'],
      ['dog/gone.jpg', 'dog', 'dog-park'],
      ['kittens/small.jpg', 'cat', 'v1'],
      ['misc/notes.txt', 'misc', 'v1'],
    ]);
    expect(items.find((i) => i.path === 'cat/tabby.jpg')?.size).toBe(files['cat/tabby.jpg'].length);
    const back = await src.read(items.find((i) => i.path === 'dog/beagle.jpg')!);
    expect(back.equals(files['dog/beagle.jpg'])).toBe(true);
  });

  it('feeds the manifest builder: images accepted, the text file and the missing key rejected', async () => {
    const src = new S3Source(`s3://${s3.bucket}/sets/v1/`, { store: s3.store });
    const { entries } = await buildManifest(src);
    const by = Object.fromEntries(entries.map((e) => [e.path, e]));
    expect(by['cat/tabby.jpg']).toMatchObject({ status: 'ok', width: 96, height: 80, label: 1, source: 'shelter-photos' });
    expect(by['dog/beagle.jpg']).toMatchObject({ status: 'ok', width: 120, height: 90, label: 0 });
    expect(by['misc/notes.txt'].status).toBe('rejected');
    expect(by['dog/gone.jpg']).toMatchObject({ status: 'rejected', reason: 'missing file' });
  });

  it('explains an empty prefix and a missing bucket', async () => {
    await expect(new S3Source(`s3://${s3.bucket}/nothing-here`, { store: s3.store }).list()).rejects.toThrow(
      /no files under group folders in s3:\/\/.*\/nothing-here\//,
    );
    await expect(new S3Source(`s3://${s3.bucket}-absent/x`, { store: s3.store }).list()).rejects.toThrow(
      /bucket does not exist|not found/,
    );
  });

  it('refuses item paths that climb out of the prefix', async () => {
    const src = new S3Source(`s3://${s3.bucket}/sets/v1`, { store: s3.store });
    await expect(src.read({ path: '../v10/cat/elsewhere.jpg', group: 'cat', source: 'x' })).rejects.toThrow(/escapes/);
  });
});

describe('openSource', () => {
  it('opens s3:// specs as S3 sources configured from AREYOUACAT_S3_*', async () => {
    const { openSource } = await import('../../src/data/sources/index.js');
    const s3 = await startTestS3('open');
    const saved = { ...process.env };
    try {
      await s3.store.putObject(s3.bucket, 'p/cat/a.jpg', await photo(40, 40, [1, 2, 3]));
      Object.assign(process.env, {
        AREYOUACAT_S3_ENDPOINT: s3.endpoint,
        AREYOUACAT_S3_ACCESS_KEY_ID: s3.accessKeyId,
        AREYOUACAT_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AREYOUACAT_S3_REGION: s3.region,
      });
      const src = await openSource(`s3://${s3.bucket}/p`);
      expect(src).toBeInstanceOf(S3Source);
      expect((await src.list()).map((i) => i.path)).toEqual(['cat/a.jpg']);
      (src as S3Source).store.close();
    } finally {
      process.env = saved;
      await s3.stop();
    }
  });
});
