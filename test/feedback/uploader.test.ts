import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FeedbackQueue } from '../../src/feedback/queue.js';
import { FeedbackUploader } from '../../src/feedback/uploader.js';
import { Semaphore } from '../../src/data/concurrency.js';
import type { S3Store } from '../../src/storage/s3-client.js';
import { acceptFeedback, type FeedbackServiceOptions } from '../../src/serve/feedback-route.js';
import { makeJpeg } from '../serve/helpers/images.js';

type Mode = 'ok' | 'fail' | 'hold';

/** An S3 stand-in the test drives: answer, fail, or hold every call until released. */
class FakeStore {
  mode: Mode = 'ok';
  readonly objects = new Map<string, Buffer | string>();
  /** Times (ms) of every call. */
  readonly calls: number[] = [];
  held = 0;
  private releases: Array<() => void> = [];

  private async answer(): Promise<void> {
    this.calls.push(performance.now());
    if (this.mode === 'fail') throw new Error('S3 endpoint unreachable (test)');
    if (this.mode === 'hold') {
      this.held++;
      await new Promise<void>((resolve) => this.releases.push(resolve));
      this.held--;
    }
  }

  release(): void {
    const r = this.releases;
    this.releases = [];
    for (const f of r) f();
  }

  async ensureBucket(): Promise<void> {
    await this.answer();
  }

  async putObject(_bucket: string, key: string, body: Buffer | string): Promise<void> {
    await this.answer();
    this.objects.set(key, body);
  }

  records(): string[] {
    return [...this.objects.keys()].filter((k) => k.endsWith('.json'));
  }
}

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dirs: string[] = [];
const uploaders: FeedbackUploader[] = [];
let photos: Buffer[];

beforeAll(async () => {
  photos = await Promise.all([1, 2, 3, 4, 5].map((seed) => makeJpeg(64, 48, seed)));
});

afterEach(async () => {
  for (const u of uploaders.splice(0)) await u.close();
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function rig(store: FakeStore, extra: Partial<ConstructorParameters<typeof FeedbackUploader>[0]> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'uploader-'));
  dirs.push(dir);
  const queue = new FeedbackQueue(dir);
  const uploader = new FeedbackUploader({ queue, store: store as unknown as S3Store, bucket: 'b', baseDelayMs: 20, ...extra });
  uploaders.push(uploader);
  const options: FeedbackServiceOptions = { queue, uploader, prefix: 'feedback/', maxPixels: 16_000_000, clientSalt: 'uploader-test-salt-0123' };
  const post = (photo: Buffer) => acceptFeedback(options, photo, { consent: 'true', answer: 'cat', prediction: 'cat' }, 1);
  return { queue, uploader, options, post };
}

describe('feedback uploader', () => {
  it('uploads items queued while a retry drain runs (none stays on disk until a restart)', async () => {
    const store = new FakeStore();
    const { queue, post } = await rig(store);
    store.mode = 'fail';
    expect((await post(photos[0])).status).toBe('queued'); // the failure starts the backoff
    store.mode = 'hold';
    await waitFor('the retry drain to reach S3', () => store.held > 0); // the drain has listed the queue
    // Arriving while the uploader backs off: these requests do not upload themselves.
    expect((await post(photos[1])).status).toBe('queued');
    expect((await post(photos[2])).status).toBe('queued');
    store.mode = 'ok';
    store.release();
    await waitFor('an empty queue', async () => (await queue.depth()) === 0);
    expect(store.records().length).toBe(3);
  }, 60_000);

  it('answers within its wait when S3 never answers, and says S3 is unavailable', async () => {
    const store = new FakeStore();
    store.mode = 'hold';
    const { queue, uploader, post } = await rig(store, { waitMs: 300 });
    const t0 = performance.now();
    const result = await Promise.race([post(photos[0]), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(result).not.toBe('hung');
    expect(result === 'hung' ? '' : result.status).toBe('queued');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await queue.depth()).toBe(1);
    await waitFor('S3 reported unavailable', () => uploader.status().s3 === 'unavailable');
    expect(uploader.status().lastError).toMatch(/not answered/);
    // The next request does not start another hanging upload.
    const held = store.held;
    expect((await post(photos[1])).status).toBe('queued');
    expect(store.held).toBe(held);
    store.mode = 'ok';
    store.release();
    await waitFor('an empty queue', async () => (await queue.depth()) === 0);
    // The queue file goes before the upload's bookkeeping ends: wait for that state rather than race it.
    await waitFor('S3 reported ok again', () => uploader.status().s3 === 'ok');
    expect(uploader.status().lastError).toBeNull();
  }, 60_000);

  it('backs off exponentially up to the cap, and health-style status shows the next attempt', async () => {
    const store = new FakeStore();
    store.mode = 'fail';
    const { uploader, post } = await rig(store, { baseDelayMs: 20, maxDelayMs: 100 });
    await post(photos[0]);
    const status = uploader.status();
    expect(status.s3).toBe('unavailable');
    expect(status.lastError).toMatch(/unreachable/);
    expect(Date.parse(status.nextAttemptAt ?? '')).toBeGreaterThan(Date.now() - 1000);
    await waitFor('9 attempts', () => store.calls.length >= 9);
    const gaps = store.calls.slice(1, 9).map((t, i) => t - store.calls[i]);
    gaps.forEach((gap, i) => {
      const full = Math.min(100, 20 * 2 ** i);
      expect(gap, `retry ${i + 1} after ${Math.round(gap)} ms`).toBeGreaterThanOrEqual(full / 2 - 2);
    });
    // Capped: without the cap the 8th delay would be at least 1280 ms.
    for (const gap of gaps.slice(4)) expect(gap).toBeLessThan(1000);
    expect(uploader.status().failures).toBeGreaterThanOrEqual(9);
  }, 60_000);

  it('re-encodes the feedback photo under the shared decode bound', async () => {
    const store = new FakeStore();
    const { options } = await rig(store);
    const decodes = new Semaphore(1);
    let free!: () => void;
    const holding = decodes.run(() => new Promise<void>((r) => (free = r)));
    const accepted = acceptFeedback({ ...options, decodes }, photos[3], { consent: 'true', answer: 'cat', prediction: 'cat' }, 1);
    await waitFor('the feedback photo to wait for a decode slot', () => decodes.queued === 1, 10_000);
    free();
    await holding;
    expect((await accepted).status).toBe('stored');
  }, 60_000);
});
