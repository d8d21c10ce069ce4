import fs from 'node:fs';
import type { ViewShape } from '../data/whole-view.js';
import type { ModelCard, PromotedModel } from '../registry/types.js';
import type { PhotoFeatureViews } from '../model/photo-features.js';

/** A model ready to answer: what the server needs from a promoted registry version. */
export interface ServingModel {
  version: number;
  threshold: number;
  imageSize: number;
  card: ModelCard;
  /**
   * Whether the model reads whole views of a photo (a pretrained-backbone model: shorter side imageSize, see
   * `src/data/whole-view.ts`) rather than imageSize squares.
   */
  wholeView?: boolean;
  /**
   * p(cat) for one prepared image: imageSize x imageSize x 3 RGB bytes, or for a whole-view model its whole view of
   * `shape` (height x width x 3); batched behind the scenes, by shape.
   */
  predict(pixels: Uint8Array, shape?: ViewShape): Promise<number>;
  /**
   * The frozen backbone's features of one photo file in every training view (`photoFeatureViews`), for feedback
   * kept as numbers only; absent when the model has no pretrained backbone. Decoding failures are ImageDecodeErrors.
   */
  features?(photo: Uint8Array, maxPixels: number): Promise<PhotoFeatureViews>;
  dispose(): void;
}

export type ModelLoader = (promoted: PromotedModel) => Promise<ServingModel>;

export interface ModelHolderOptions {
  readPromoted: () => Promise<PromotedModel | null>;
  load: ModelLoader;
  /** Folder whose changes trigger a check (the registry root, where promoted.json is replaced). */
  watchDir?: string;
  /** Poll interval in ms, the fallback for file systems where fs.watch misses events. */
  pollMs?: number;
  onSwap?: (from: ServingModel | null, to: ServingModel) => void;
  /**
   * A promoted version failed to load (version -1: the promoted pointer itself cannot be read). Called once per
   * failure: a retry that fails the same way, or a damaged pointer read again unchanged, is not reported again.
   */
  onLoadError?: (version: number, err: Error, retry: { attempt: number; retryInMs: number }) => void;
  /** First delay before a version that failed to load is tried again; doubles up to `maxRetryMs` (default 2000). */
  retryMs?: number;
  /** Longest delay between retries (default 60000). */
  maxRetryMs?: number;
}

/** Why the promoted model is not the one being served. */
export interface ModelLoadError {
  /** The promoted version that failed to load; null when the promoted pointer cannot be read. */
  version: number | null;
  message: string;
  /** When it first failed (ISO time), how many attempts failed, and when the next one is due. */
  since: string;
  attempts: number;
  nextRetryAt: string | null;
}

interface Failure {
  key: string;
  error: ModelLoadError;
  retryAt: number;
}

interface Slot {
  model: ServingModel;
  users: number;
  retired: boolean;
}

/**
 * Holds the promoted model and swaps it for a newly promoted one without a restart: the new version is loaded in the
 * background while the old one keeps answering, then one assignment makes it current. Requests that started on the
 * old model finish on it (`use` counts them); the old model is disposed when the last of them is done. A version
 * that fails to load is reported, the current model (if any) stays, and the load is retried with exponential
 * backoff (files repaired in place are picked up); `loadError` says what failed.
 */
export class ModelHolder {
  private slot: Slot | null = null;
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private recheck = false;
  private failure: Failure | null = null;
  private pointerError: ModelLoadError | null = null;
  private closed = false;

  constructor(private readonly options: ModelHolderOptions) {}

  get current(): ServingModel | null {
    return this.slot?.model ?? null;
  }

  /** Why the promoted version is not being served (a load failure or a damaged pointer), or null. */
  get loadError(): ModelLoadError | null {
    return this.pointerError ?? this.failure?.error ?? null;
  }

  /** Load the promoted model (if any) and start watching for promotions. */
  async start(): Promise<void> {
    await this.check();
    if (this.options.watchDir) {
      try {
        fs.mkdirSync(this.options.watchDir, { recursive: true });
        this.watcher = fs.watch(this.options.watchDir, { persistent: false }, () => void this.check());
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = null; // polling still runs
        });
      } catch {
        this.watcher = null;
      }
    }
    const pollMs = this.options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.check(), pollMs);
      this.timer.unref();
    }
  }

  /**
   * Run `fn` with the current model, keeping that model alive until `fn` settles even if a swap happens meanwhile.
   * Returns null when no model is loaded.
   */
  async use<T>(fn: (model: ServingModel) => Promise<T>): Promise<T | null> {
    const slot = this.slot;
    if (!slot) return null;
    slot.users++;
    try {
      return await fn(slot.model);
    } finally {
      slot.users--;
      if (slot.retired && slot.users === 0) slot.model.dispose();
    }
  }

  /** Compare the promoted pointer with the loaded model and swap when it changed. Concurrent calls coalesce. */
  check(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.checking) {
      this.recheck = true;
      return this.checking;
    }
    this.checking = (async () => {
      try {
        do {
          this.recheck = false;
          await this.checkOnce();
        } while (this.recheck && !this.closed);
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    let promoted: PromotedModel | null;
    try {
      promoted = await this.options.readPromoted();
    } catch (err) {
      // Reported once per distinct error: the poll reads a damaged pointer every few seconds.
      const message = (err as Error).message;
      if (this.pointerError?.message !== message) {
        this.pointerError = { version: null, message, since: new Date().toISOString(), attempts: 1, nextRetryAt: null };
        this.options.onLoadError?.(-1, err as Error, { attempt: 1, retryInMs: this.options.pollMs ?? 2000 });
      } else {
        this.pointerError.attempts++;
      }
      return;
    }
    this.pointerError = null;
    if (!promoted) return; // nothing promoted (or the pointer was removed): keep what is loaded
    const key = `${promoted.version}:${promoted.dir}`;
    const cur = this.slot?.model;
    if (cur && cur.version === promoted.version) {
      this.failure = null;
      return;
    }
    if (this.failure?.key === key && Date.now() < this.failure.retryAt) return; // backing off
    if (this.failure && this.failure.key !== key) this.failure = null; // another version was promoted
    let next: ServingModel;
    try {
      next = await this.options.load(promoted);
    } catch (err) {
      const message = (err as Error).message;
      const attempt = (this.failure?.error.attempts ?? 0) + 1;
      const base = this.options.retryMs ?? 2000;
      const retryInMs = Math.min(this.options.maxRetryMs ?? 60_000, base * 2 ** (attempt - 1));
      const retryAt = Date.now() + retryInMs;
      const repeated = this.failure?.error.message === message;
      this.failure = {
        key,
        retryAt,
        error: {
          version: promoted.version,
          message,
          since: this.failure?.error.since ?? new Date().toISOString(),
          attempts: attempt,
          nextRetryAt: new Date(retryAt).toISOString(),
        },
      };
      if (!repeated) this.options.onLoadError?.(promoted.version, err as Error, { attempt, retryInMs });
      return;
    }
    if (this.closed) {
      next.dispose();
      return;
    }
    this.failure = null;
    const old = this.slot;
    this.slot = { model: next, users: 0, retired: false };
    if (old) {
      old.retired = true;
      if (old.users === 0) old.model.dispose();
    }
    this.options.onSwap?.(old?.model ?? null, next);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    const old = this.slot;
    this.slot = null;
    if (old) {
      old.retired = true;
      if (old.users === 0) old.model.dispose();
    }
  }
}
