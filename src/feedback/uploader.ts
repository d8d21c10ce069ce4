import type { S3Store } from '../storage/s3-client.js';
import type { FeedbackQueue } from './queue.js';

export interface FeedbackUploaderOptions {
  queue: FeedbackQueue;
  store: S3Store;
  bucket: string;
  /** First retry delay after a failure; doubles per failure up to maxDelayMs (with jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onDepth?: (depth: number) => void;
  onFailure?: (err: Error) => void;
}

/**
 * Moves queued feedback to S3: the photo first, then the record (so a record never names a missing photo), then the
 * queue file is removed. Puts are idempotent (same keys), so an item interrupted half-way is simply sent again.
 * After a failure it retries with exponential backoff; while backing off, new items wait in the queue.
 */
export class FeedbackUploader {
  private readonly inFlight = new Set<string>();
  private bucketReady = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private closed = false;
  lastError: Error | null = null;

  constructor(private readonly options: FeedbackUploaderOptions) {}

  /** True after a failed upload until the next success. */
  get backingOff(): boolean {
    return this.failures > 0;
  }

  private async ensureBucket(): Promise<void> {
    if (this.bucketReady) return;
    await this.options.store.ensureBucket(this.options.bucket);
    this.bucketReady = true;
  }

  /** Upload one queued item now. Returns false (and schedules a retry) when S3 failed. */
  async uploadOne(id: string): Promise<boolean> {
    if (this.inFlight.has(id)) return false;
    this.inFlight.add(id);
    try {
      const item = await this.options.queue.get(id);
      if (!item) return true;
      await this.ensureBucket();
      const { store, bucket } = this.options;
      await store.putObject(bucket, item.record.photoKey, Buffer.from(item.photoBase64, 'base64'), 'image/jpeg');
      await store.putObject(bucket, item.record.recordKey, JSON.stringify(item.record, null, 2) + '\n', 'application/json');
      await this.options.queue.remove(id);
      this.failures = 0;
      this.lastError = null;
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
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drain();
    }, delay);
    this.retryTimer.unref();
  }

  /** Upload everything queued, oldest first; stops at the first failure (a retry is then scheduled). */
  drain(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = (async () => {
      try {
        for (const id of await this.options.queue.ids()) {
          if (this.closed) break;
          if (this.inFlight.has(id)) continue;
          if (!(await this.uploadOne(id))) break;
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
    await this.draining?.catch(() => undefined);
  }
}
