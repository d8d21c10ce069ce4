import type { S3Store } from '../storage/s3-client.js';
import type { FeedbackQueue } from './queue.js';
import { isQueuedPhoto } from './types.js';

export interface FeedbackUploaderOptions {
  queue: FeedbackQueue;
  store: S3Store;
  bucket: string;
  /** First retry delay after a failure; doubles per failure up to maxDelayMs (with jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Longest a request waits for its own upload (default 2000 ms); the upload goes on in the background after that.
   * An upload running longer than this also counts S3 as unavailable (a stalled S3 has not failed yet).
   */
  waitMs?: number;
  onDepth?: (depth: number) => void;
  onFailure?: (err: Error) => void;
  now?: () => number;
}

/** What the uploader knows about S3, for `/api/health`. */
export interface UploaderStatus {
  /** 'unknown' until the first upload, 'unavailable' after a failure or while an upload is stalled. */
  s3: 'ok' | 'unavailable' | 'unknown';
  /** Failed attempts in a row. */
  failures: number;
  lastError: string | null;
  /** ISO time of the next retry while backing off. */
  nextAttemptAt: string | null;
}

/**
 * Moves queued feedback to S3: the photo first (a features item has none), then the record (so a record never names
 * a missing photo), then the queue file is removed. Puts are idempotent (same keys), so an item interrupted half-way is simply sent again.
 * After a failure it retries with exponential backoff (capped); while S3 is unavailable, new items wait in the queue
 * and the next drain takes them: a drain lists the queue again until a pass finds nothing new, so an item queued
 * while a drain runs is never left behind.
 */
export class FeedbackUploader {
  /** Uploads running now, with their start times. */
  private readonly inFlight = new Map<string, number>();
  private bucketReady = false;
  private failures = 0;
  private succeeded = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt: number | null = null;
  private draining: Promise<void> | null = null;
  /** Set when items were queued (or a drain asked for) since the running drain last listed the queue. */
  private dirty = false;
  private closed = false;
  lastError: Error | null = null;

  constructor(private readonly options: FeedbackUploaderOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get waitMs(): number {
    return this.options.waitMs ?? 2000;
  }

  /** True after a failed upload until the next success. */
  get backingOff(): boolean {
    return this.failures > 0;
  }

  /** Start time of the oldest upload that has run longer than `waitMs`, if any. */
  private stalledSince(): number | null {
    const limit = this.now() - this.waitMs;
    let oldest: number | null = null;
    for (const t of this.inFlight.values()) if (t <= limit && (oldest === null || t < oldest)) oldest = t;
    return oldest;
  }

  /** False while backing off after a failure, or while an upload has gone unanswered for longer than `waitMs`. */
  get available(): boolean {
    return this.failures === 0 && this.stalledSince() === null;
  }

  status(): UploaderStatus {
    const stalled = this.stalledSince();
    const s3 = !this.available ? 'unavailable' : this.succeeded ? 'ok' : 'unknown';
    const lastError =
      this.lastError?.message ?? (stalled !== null ? `S3 has not answered an upload for ${Math.round((this.now() - stalled) / 1000)} s` : null);
    return {
      s3,
      failures: this.failures,
      lastError,
      nextAttemptAt: this.retryAt !== null ? new Date(this.retryAt).toISOString() : null,
    };
  }

  /**
   * The request side: item `id` was just queued. Uploads it now when S3 is available and waits for that at most
   * `waitMs` (true: in S3); otherwise leaves it to the next drain (false: it stays queued, safe on disk).
   */
  async submit(id: string): Promise<boolean> {
    if (this.closed) return false;
    if (!this.available) {
      this.kick();
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.waitMs);
    });
    try {
      return await Promise.race([this.uploadOne(id), waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Items were queued without an upload of their own: the running drain takes them, else a pending retry, else a new drain. */
  kick(): void {
    this.dirty = true;
    if (this.closed || this.draining || this.retryTimer) return;
    void this.drain();
  }

  private async ensureBucket(): Promise<void> {
    if (this.bucketReady) return;
    await this.options.store.ensureBucket(this.options.bucket);
    this.bucketReady = true;
  }

  /** Upload one queued item now. Returns false (and schedules a retry) when S3 failed. */
  async uploadOne(id: string): Promise<boolean> {
    if (this.inFlight.has(id)) return false;
    this.inFlight.set(id, this.now());
    try {
      const item = await this.options.queue.get(id);
      if (!item) return true;
      await this.ensureBucket();
      const { store, bucket } = this.options;
      const photo = isQueuedPhoto(item);
      if (photo) await store.putObject(bucket, item.record.photoKey, Buffer.from(item.photoBase64, 'base64'), 'image/jpeg');
      // A features record holds two rows of 688 numbers: written compact; a photo record stays readable.
      const text = photo ? JSON.stringify(item.record, null, 2) : JSON.stringify(item.record);
      await store.putObject(bucket, item.record.recordKey, text + '\n', 'application/json');
      await this.options.queue.remove(id);
      const wasBackingOff = this.failures > 0;
      this.failures = 0;
      this.lastError = null;
      this.succeeded = true;
      // S3 is back: whatever was queued meanwhile goes now, not at the next failure or restart.
      if (wasBackingOff || this.dirty) this.kick();
      return true;
    } catch (err) {
      this.noteFailure(err as Error);
      return false;
    } finally {
      this.inFlight.delete(id);
      void this.reportDepth();
    }
  }

  private noteFailure(err: Error): void {
    this.failures++;
    this.lastError = err;
    this.bucketReady = false;
    this.options.onFailure?.(err);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const base = this.options.baseDelayMs ?? 1000;
    const max = this.options.maxDelayMs ?? 60_000;
    const delay = Math.min(max, base * 2 ** Math.min(20, this.failures - 1)) * (0.5 + Math.random() * 0.5);
    this.retryAt = this.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      void this.drain();
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * Upload everything queued, oldest first, listing the queue again until a pass finds nothing new; stops at the
   * first failure (a retry is then scheduled). Items another upload is sending are left to it.
   */
  drain(): Promise<void> {
    this.dirty = true;
    if (this.draining) return this.draining;
    this.draining = (async () => {
      try {
        while (this.dirty && !this.closed) {
          this.dirty = false;
          for (const id of await this.options.queue.ids()) {
            if (this.closed) return;
            if (this.inFlight.has(id)) continue;
            if (!(await this.uploadOne(id))) return;
          }
        }
      } catch (err) {
        this.noteFailure(err as Error);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  async depth(): Promise<number> {
    return this.options.queue.depth();
  }

  private async reportDepth(): Promise<void> {
    if (!this.options.onDepth) return;
    try {
      this.options.onDepth(await this.options.queue.depth());
    } catch {
      // the gauge is best effort
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
    await this.draining?.catch(() => undefined);
  }
}
