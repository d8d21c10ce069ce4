import { describe, expect, it } from 'vitest';
import { FeedbackReplays, feedbackReplayKey } from '../../src/feedback/replays.js';
import type { FeedbackForm } from '../../src/feedback/form.js';
import { createHash } from 'node:crypto';

const SALT = 'test-salt-of-at-least-16-chars';
const form: FeedbackForm = { answer: 'cat', decision: 'not-cat', probability: 0.4, modelVersion: 3, store: 'photo' };

describe('feedback replay memory', () => {
  it('keys on the photo bytes, the answer and the whole prediction', () => {
    const photo = Buffer.from('photo bytes');
    const key = feedbackReplayKey(photo, form, SALT);
    expect(feedbackReplayKey(Buffer.from('photo bytes'), { ...form }, SALT)).toBe(key);
    expect(feedbackReplayKey(Buffer.from('photo bytez'), form, SALT)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, answer: 'not-cat' }, SALT)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, decision: 'cat' }, SALT)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, probability: 0.41 }, SALT)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, modelVersion: null }, SALT)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, store: 'features' }, SALT)).not.toBe(key);
  });

  it('is salted with the deployment secret: holding the photo is not enough to recognise the key (issue 26)', () => {
    const photo = Buffer.from('photo bytes');
    const featuresForm: FeedbackForm = { ...form, store: 'features' };
    const salt = 'a-deployment-secret-of-32-chars!';
    const key = feedbackReplayKey(photo, featuresForm, salt);
    // What anyone holding the photo could compute without the salt.
    const photoHash = createHash('sha256').update(photo).digest('hex');
    const unsalted = createHash('sha256')
      .update(JSON.stringify([photoHash, featuresForm.answer, featuresForm.decision, featuresForm.probability, featuresForm.modelVersion, 'features']))
      .digest('hex');
    expect(key).not.toBe(unsalted);
    expect(feedbackReplayKey(photo, featuresForm, salt)).toBe(key);
    expect(feedbackReplayKey(photo, featuresForm, 'another-deployment-secret-00000')).not.toBe(key);
    expect(feedbackReplayKey(photo, form, salt)).not.toBe(feedbackReplayKey(photo, form, 'another-deployment-secret-00000'));
  });

  it('runs accept once per key within the window, also for concurrent replays', async () => {
    let now = 0;
    const replays = new FeedbackReplays<string>({ windowMs: 1000, now: () => now });
    let calls = 0;
    const accept = async () => `id-${++calls}`;
    const first = await Promise.all(Array.from({ length: 20 }, () => replays.once('k', accept)));
    expect(calls).toBe(1);
    expect(first.filter((r) => !r.replay).length).toBe(1);
    expect(new Set(first.map((r) => r.result))).toEqual(new Set(['id-1']));
    now = 1000;
    expect(await replays.once('k', accept)).toEqual({ result: 'id-1', replay: true });
    now = 2001; // past the window since the first post
    expect(await replays.once('k', accept)).toEqual({ result: 'id-2', replay: false });
  });

  it('forgets a failed accept, so that the client can try again', async () => {
    const replays = new FeedbackReplays<string>();
    await expect(replays.once('k', async () => { throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(await replays.once('k', async () => 'id')).toEqual({ result: 'id', replay: false });
  });

  it('stays bounded: at most `cap` keys, the least recently seen dropped first', async () => {
    const replays = new FeedbackReplays<string>({ cap: 3 });
    for (const k of ['a', 'b', 'c']) await replays.once(k, async () => k);
    await replays.once('a', async () => 'again'); // a seen again: b is now the oldest
    await replays.once('d', async () => 'd');
    expect(replays.size).toBe(3);
    expect((await replays.once('a', async () => 'new')).replay).toBe(true);
    expect((await replays.once('b', async () => 'new')).replay).toBe(false);
    for (let i = 0; i < 10_000; i++) await replays.once(`x${i}`, async () => 'x');
    expect(replays.size).toBe(3);
  });

  it('takes seeded results (read back after a restart) only within the window', async () => {
    const replays = new FeedbackReplays<string>({ windowMs: 1000, now: () => 10_000 });
    replays.seed('old', 8000, 'old-id');
    replays.seed('recent', 9500, 'recent-id');
    expect((await replays.once('old', async () => 'new')).replay).toBe(false);
    expect(await replays.once('recent', async () => 'new')).toEqual({ result: 'recent-id', replay: true });
  });
});
