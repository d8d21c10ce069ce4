import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CombinedSource, FeedbackSource, pullFeedback } from '../../src/feedback/dataset.js';
import { feedbackKeys, FEEDBACK_SCHEMA, type FeedbackRecord } from '../../src/feedback/types.js';
import { SyntheticSource } from '../../src/data/sources/synthetic.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

const photo = (colour: string) => sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).jpeg().toBuffer();

describe('feedback as training data', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3('feedback-data');
  });
  afterAll(() => s3?.stop());

  async function put(id: string, answer: string, img: Buffer, probability: number | null, consent: unknown = true) {
    const time = '2026-11-26T10:00:00.000Z';
    const { photoKey, recordKey } = feedbackKeys('feedback/', id, time);
    const record = {
      schema: FEEDBACK_SCHEMA, id, time, prediction: { decision: 'cat', probability, modelVersion: 1 }, answer, servedVersion: 1,
      consent, photoKey, recordKey, image: { format: 'jpeg', bytes: img.length, width: 40, height: 30, properties: null },
    } as unknown as FeedbackRecord;
    await s3.store.putObject(s3.bucket, photoKey, img, 'image/jpeg');
    await s3.store.putObject(s3.bucket, recordKey, JSON.stringify(record), 'application/json');
  }

  it('uses consistent answers, excludes contradictions and damaged records, flags confident reversals', async () => {
    const red = await photo('#c00000');
    const blue = await photo('#0000c0');
    const green = await photo('#00a000');
    await put('a-cat', 'cat', red, 0.9);
    await put('b-notcat', 'not-cat', blue, 0.97); // overturns a confident "cat": flagged but used
    await put('c-conflict-1', 'cat', green, 0.5);
    await put('d-conflict-2', 'not-cat', green, 0.5); // same photo, other answer: both excluded
    await put('e-noconsent', 'cat', red, 0.5, false);
    await s3.store.putObject(s3.bucket, 'feedback/records/2026-11-26/f-broken.json', '{"id": ', 'application/json');

    const pull = await pullFeedback(s3.store, s3.bucket);
    expect(pull.used.map((u) => [u.record.id, u.group]).sort()).toEqual([['a-cat', 'cat'], ['b-notcat', 'misc']]);
    expect(pull.suspicious.map((s) => s.id)).toEqual(['b-notcat']);
    const reasons = Object.fromEntries(pull.excluded.map((x) => [x.id.replace(/^.*\//, ''), x.reason]));
    expect(reasons['c-conflict-1']).toMatch(/inconsistent/);
    expect(reasons['d-conflict-2']).toMatch(/inconsistent/);
    expect(reasons['e-noconsent']).toMatch(/consent/);
    expect(reasons['f-broken.json']).toMatch(/unreadable/);

    const source = new FeedbackSource(s3.store, s3.bucket, pull);
    const items = await source.list();
    expect(items.map((i) => i.path).sort()).toEqual(['cat/feedback-a-cat.jpg', 'misc/feedback-b-notcat.jpg']);
    expect((await source.read(items[0])).equals(items[0].group === 'cat' ? red : blue)).toBe(true);

    const combined = new CombinedSource([new SyntheticSource({ seed: 2, n: 8 }), source]);
    const all = await combined.list();
    expect(all).toHaveLength(10);
    const fb = all.find((i) => i.source === 'feedback')!;
    expect((await combined.read(fb)).length).toBeGreaterThan(0);
    await expect(new CombinedSource([source, source]).list()).rejects.toThrow(/exists in both/);
  });
});
