import { createHash, createHmac } from 'node:crypto';
import type { FeedbackForm } from './form.js';
import type { FeedbackRecord } from './types.js';

export const DEFAULT_REPLAY_WINDOW_MS = 10 * 60_000;
export const DEFAULT_REPLAY_CAP = 10_000;

/**
 * What makes two feedback posts the same answer: the photo's bytes as uploaded (SHA-256), the user's answer and the
 * prediction shown (decision, probability, model version), and what is kept when only features are. Stored in the record as `replayKey`.
 * Keyed (HMAC-SHA-256) with the deployment's feedback salt, as the client hash is: without the salt, whoever holds a
 * candidate photo could hash it and confirm from a features-only record that it was sent, which such a record must
 * not allow. The same salt on every replica (and after a restart) gives the same key, so replays are still found.
 */
export function feedbackReplayKey(photo: Buffer, form: FeedbackForm, salt: string): string {
  const photoHash = createHash('sha256').update(photo).digest('hex');
  // `store` only when it is features, so the keys of photo feedback stay what they were (replays seeded from them).
  const what = JSON.stringify([photoHash, form.answer, form.decision, form.probability, form.modelVersion, ...(form.store === 'features' ? ['features'] : [])]);
  return createHmac('sha256', `areyouacat-feedback-replay:${salt}`).update(what).digest('hex');
}

export interface ReplayOptions {
  /** How long a replay is recognised after the first post (default 10 minutes). */
  windowMs?: number;
  /** Most keys remembered; the least recently seen go first (default 10,000). */
  cap?: number;
  now?: () => number;
}

interface Entry<T> {
  at: number;
  result: Promise<T>;
}

/**
 * Idempotent feedback: the first post of a key runs `accept`; a replay within the window (or one that arrives while
 * the first is still being accepted) gets the first one's result instead, and nothing is stored again. Bounded: an
 * LRU of at most `cap` keys. A failed accept is forgotten, so the client can try again.
 */
export class FeedbackReplays<T> {
  private readonly entries = new Map<string, Entry<T>>();
  readonly windowMs: number;
  readonly cap: number;
  private readonly now: () => number;

  constructor(options: ReplayOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.cap = options.cap ?? DEFAULT_REPLAY_CAP;
    this.now = options.now ?? Date.now;
    if (!(this.windowMs >= 0)) throw new Error(`the replay window must be >= 0 ms (got ${this.windowMs})`);
    if (!(this.cap >= 1)) throw new Error(`the replay cap must be >= 1 (got ${this.cap})`);
  }

  get size(): number {
    return this.entries.size;
  }

  private fresh(key: string): Entry<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at > this.windowMs) return undefined;
    this.entries.set(key, entry); // most recently seen last
    return entry;
  }

  private remember(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.cap) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Remember a result accepted earlier (at `at`, ms since the epoch), e.g. read back after a restart. */
  seed(key: string, at: number, result: T): void {
    if (this.now() - at > this.windowMs) return;
    const current = this.entries.get(key);
    if (current && current.at >= at) return;
    this.remember(key, { at, result: Promise.resolve(result) });
  }

  /** `accept()` for the first post of `key` in the window; the first post's result (and `replay: true`) after that. */
  async once(key: string, accept: () => Promise<T>): Promise<{ result: T; replay: boolean }> {
    const seen = this.fresh(key);
    if (seen) return { result: await seen.result, replay: true };
    const entry: Entry<T> = { at: this.now(), result: accept() };
    this.remember(key, entry);
    try {
      return { result: await entry.result, replay: false };
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
  }
}

/** The record's replay key and time, when it has them (records written before replay keys have none). */
export function replayOf(record: Pick<FeedbackRecord, 'replayKey' | 'time'>): { key: string; at: number } | null {
  if (typeof record.replayKey !== 'string') return null;
  const at = Date.parse(record.time);
  return Number.isFinite(at) ? { key: record.replayKey, at } : null;
}
