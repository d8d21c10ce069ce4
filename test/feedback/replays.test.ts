import { describe, expect, it } from 'vitest';
import { FeedbackReplays, feedbackReplayKey } from '../../src/feedback/replays.js';
import type { FeedbackForm } from '../../src/feedback/form.js';

const form: FeedbackForm = { answer: 'cat', decision: 'not-cat', probability: 0.4, modelVersion: 3, store: 'photo' };

describe('feedback replay memory', () => {
  it('keys on the photo bytes, the answer and the whole prediction', () => {
    const photo = Buffer.from('photo bytes');
    const key = feedbackReplayKey(photo, form);
    expect(feedbackReplayKey(Buffer.from('photo bytes'), { ...form })).toBe(key);
    expect(feedbackReplayKey(Buffer.from('photo bytez'), form)).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, answer: 'not-cat' })).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, decision: 'cat' })).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, probability: 0.41 })).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, modelVersion: null })).not.toBe(key);
    expect(feedbackReplayKey(photo, { ...form, store: 'features' })).not.toBe(key);
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
