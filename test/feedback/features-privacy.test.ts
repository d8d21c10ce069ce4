import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { predict, sendFeedback } from '../../src/feedback/client.js';
import type { FeatureFeedbackRecord } from '../../src/feedback/types.js';
import { BACKBONE_FEATURES, BACKBONE_ID } from '../../src/model/backbone.js';
import { FEATURE_RECIPE_VERSION } from '../../src/model/photo-features.js';
import { purgeFeedback } from '../../src/feedback/purge.js';
import { paths } from '../../src/storage/paths.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { makeJpegWithGps } from '../serve/helpers/images.js';
import { testServerOptions, useTempHome } from '../serve/helpers/server-fixture.js';

/**
 * "Use my answer, do not keep my photo" (store=features): not one byte of the photo may be written anywhere. The
 * photo carries EXIF (camera make, GPS), so a leak of the upload, of a re-encoded copy, of its base64 or of its
 * metadata is each caught: S3 objects, every file that passed through the disk queue, the monitoring log folder
 * and the server's log lines are all searched.
 */
let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
const logLines: string[] = [];
let photo: Buffer;
const queued: string[] = [];

beforeAll(async () => {
  home = await useTempHome('features-privacy');
  s3 = await startTestS3('features-privacy');
  await promoteTestModel(await registerTestModel({ tmp: home.home, imageSize: 64, backbone: BACKBONE_ID }));
  photo = await makeJpegWithGps();
  srv = await startServer(testServerOptions(s3, {
    workers: 1,
    log: (message, fields) => void logLines.push(`${message} ${JSON.stringify(fields ?? {})}`),
  }));
  // Every queue file is copied before the uploader removes it, so the test sees all the queue ever held.
  const remove = srv.queue.remove.bind(srv.queue);
  srv.queue.remove = async (id: string) => {
    queued.push(await fs.readFile(path.join(srv.queue.dir, `${id}.json`), 'utf8').catch(() => ''));
    return remove(id);
  };
}, 300_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** What would give the photo away in a text or binary blob. */
function leaks(blob: Buffer, what: string): string[] {
  const text = blob.toString('latin1');
  const found: string[] = [];
  const middle = photo.subarray(Math.floor(photo.length / 2), Math.floor(photo.length / 2) + 48);
  if (blob.includes(middle)) found.push(`${what}: bytes of the uploaded photo`);
  const b64 = photo.toString('base64');
  if (text.includes(b64.slice(400, 440))) found.push(`${what}: the uploaded photo in base64`);
  if (blob.includes(Buffer.from([0xff, 0xd8, 0xff]))) found.push(`${what}: a JPEG`);
  if (text.includes('/9j/')) found.push(`${what}: a JPEG in base64`);
  if (text.includes('SecretCam')) found.push(`${what}: the photo's EXIF`);
  return found;
}

describe('features-only feedback', () => {
  it('stores the features, the answer and the model identity, and no byte of the photo anywhere', async () => {
    const answer = await predict(srv.url, { data: photo, type: 'image/jpeg' });
    const receipt = await sendFeedback(srv.url, { photo: { data: photo, type: 'image/jpeg' }, answer: 'cat', prediction: answer, consent: true, store: 'features' });
    expect(['stored', 'queued']).toContain(receipt.status);
    await srv.uploader.drain();
    expect(await srv.queue.depth()).toBe(0);

    const objects = (await s3.store.listKeys(s3.bucket, '')).map((o) => o.key);
    expect(objects.filter((k) => k.includes(receipt.id))).toEqual([expect.stringMatching(new RegExp(`^feedback/features/\\d{4}-\\d{2}-\\d{2}/${receipt.id}\\.json$`))]);
    expect(objects.filter((k) => k.startsWith('feedback/photos/'))).toEqual([]);
    const record = JSON.parse((await s3.store.getObject(s3.bucket, objects.find((k) => k.includes(receipt.id))!)).toString('utf8')) as FeatureFeedbackRecord;
    expect(record).toMatchObject({ kind: 'features', answer: 'cat', servedVersion: answer.modelVersion, consent: true });
    expect(record.features).toMatchObject({ backbone: BACKBONE_ID, recipe: FEATURE_RECIPE_VERSION, imageSize: 64, views: ['plain', 'mirrored'] });
    expect(record.features.values.map((v) => v.length)).toEqual([BACKBONE_FEATURES, BACKBONE_FEATURES]);
    expect(record.features.values[0]).not.toEqual(record.features.values[1]);
    expect(record.features.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.clientHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(record)).not.toContain('127.0.0.1');
    expect(record).not.toHaveProperty('photoKey');
    expect(record).not.toHaveProperty('image');

    const found: string[] = [];
    for (const key of objects) found.push(...leaks(await s3.store.getObject(s3.bucket, key), `s3://${key}`));
    expect(queued.length).toBeGreaterThan(0);
    queued.forEach((text, i) => found.push(...leaks(Buffer.from(text, 'latin1'), `queue file ${i}`)));
    for (const file of [...(await filesUnder(srv.queue.dir)), ...(await filesUnder(paths.monitoring()))]) {
      found.push(...leaks(await fs.readFile(file), file));
    }
    found.push(...leaks(Buffer.from(logLines.join('\n'), 'latin1'), 'server log'));
    expect(found).toEqual([]);

    // The same answer again is a replay; the same photo with the other answer is another record with the same hash.
    const again = await sendFeedback(srv.url, { photo: { data: photo, type: 'image/jpeg' }, answer: 'cat', prediction: answer, consent: true, store: 'features' });
    expect(again).toMatchObject({ id: receipt.id, replay: true });
    const other = await sendFeedback(srv.url, { photo: { data: photo, type: 'image/jpeg' }, answer: 'not-cat', prediction: answer, consent: true, store: 'features' });
    await srv.uploader.drain();
    const otherKey = (await s3.store.listKeys(s3.bucket, 'feedback/features/')).map((o) => o.key).find((k) => k.includes(other.id))!;
    const otherRecord = JSON.parse((await s3.store.getObject(s3.bucket, otherKey)).toString('utf8')) as FeatureFeedbackRecord;
    expect(otherRecord.features.hash).toBe(record.features.hash);

    // Retention covers feature records like photos.
    const purged = await purgeFeedback({ store: s3.store, bucket: s3.bucket, prefix: 'feedback/', olderThanDays: 0, now: new Date(Date.now() + 2 * 86_400_000) });
    expect(purged.deletedObjects).toBeGreaterThanOrEqual(2);
    expect((await s3.store.listKeys(s3.bucket, 'feedback/features/')).length).toBe(0);
  }, 300_000);

  it('refuses a photo it cannot read as a client error, storing nothing', async () => {
    const before = (await s3.store.listKeys(s3.bucket, 'feedback/')).length;
    const broken = Buffer.concat([photo.subarray(0, 200)]);
    await expect(sendFeedback(srv.url, { photo: { data: broken, type: 'image/jpeg' }, answer: 'cat', prediction: { decision: 'cat' }, consent: true, store: 'features' }))
      .rejects.toMatchObject({ status: 422 });
    await expect(sendFeedback(srv.url, { photo: { data: Buffer.from('not an image'), type: 'image/jpeg' }, answer: 'cat', prediction: { decision: 'cat' }, consent: true, store: 'features' }))
      .rejects.toMatchObject({ status: 415 });
    expect((await s3.store.listKeys(s3.bucket, 'feedback/')).length).toBe(before);
  }, 120_000);
});
