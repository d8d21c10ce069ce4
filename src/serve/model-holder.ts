import fs from 'node:fs';
import type { ModelCard, PromotedModel } from '../registry/types.js';

/** A model ready to answer: what the server needs from a promoted registry version. */
export interface ServingModel {
  version: number;
  threshold: number;
  imageSize: number;
  card: ModelCard;
  /** p(cat) for one prepared image (imageSize x imageSize x 3 RGB bytes); batched behind the scenes. */
  predict(pixels: Uint8Array): Promise<number>;
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
  onLoadError?: (version: number, err: Error) => void;
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
 * that fails to load is logged and skipped; the current model stays.
 */
export class ModelHolder {
  private slot: Slot | null = null;
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private recheck = false;
  private failedKey: string | null = null;
  private closed = false;

  constructor(private readonly options: ModelHolderOptions) {}

  get current(): ServingModel | null {
    return this.slot?.model ?? null;
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
      this.options.onLoadError?.(-1, err as Error);
      return;
    }
    if (!promoted) return; // nothing promoted (or the pointer was removed): keep what is loaded
    const key = `${promoted.version}:${promoted.dir}`;
    const cur = this.slot?.model;
    if (cur && cur.version === promoted.version) return;
    if (key === this.failedKey) return;
    let next: ServingModel;
    try {
      next = await this.options.load(promoted);
    } catch (err) {
      this.failedKey = key;
      this.options.onLoadError?.(promoted.version, err as Error);
      return;
    }
    if (this.closed) {
      next.dispose();
      return;
    }
    this.failedKey = null;
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
