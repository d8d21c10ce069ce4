import fs from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic.js';
import { histogramQuantile, type CumulativeBucket } from './prometheus-text.js';
import type { ServingCounts } from './serving-stats.js';

/**
 * A bounded history of the server's counters: one bucket per minute (API requests, 4xx and 5xx answers,
 * predictions, and the counts of the predict latency histogram's buckets) for the last 24 hours. The counters count
 * since the server started; each reading adds what changed since the previous one to the bucket of its minute.
 * The server saves the history to its monitoring folder so that a restart keeps the hours.
 */

export const SERVING_HISTORY_FILE = 'serving-history.json';

/** One minute as saved: counts of that minute only (not since the start). */
export interface ServingHistoryBucket {
  /** Start of the minute, ISO 8601 UTC. */
  start: string;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  predictions: number;
  /** Predict latencies of the minute per histogram bucket (not cumulative): one count per bound, then above the last. */
  latency: number[];
}

/** `<monitoring>/serving-history.json`. */
export interface ServingHistoryFile {
  schema: 1;
  savedAt: string;
  bucketSeconds: number;
  /** Upper bounds (seconds) of the latency histogram's buckets, without +Inf. */
  latencyBounds: number[];
  buckets: ServingHistoryBucket[];
}

/** One minute as the monitoring page shows it. */
export interface ServingHistoryPoint {
  start: string;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  predictions: number;
  /** Predict latency percentiles of the minute (ms); null without predict requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** The minute is not over yet (the newest one, as it is read): its counts are those so far. */
  partial: boolean;
}

/** The history in `GET /api/monitoring`: minutes the server ran, oldest first (a gap is time it was not running). */
export interface ServingHistoryView {
  bucketSeconds: number;
  /** How far back the history goes at most. */
  hours: number;
  buckets: ServingHistoryPoint[];
}

export interface ServingHistoryOptions {
  /** Upper bounds (seconds) of the predict latency histogram. */
  latencyBounds: readonly number[];
  /** Default one minute. */
  bucketMs?: number;
  /** Default 24 hours; at most `keepMs / bucketMs` buckets are kept. */
  keepMs?: number;
}

const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e5) / 100);

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

export class ServingHistory {
  readonly bucketMs: number;
  readonly keepMs: number;
  readonly latencyBounds: readonly number[];
  private readonly capacity: number;
  /** Oldest first; `startMs` ascending. */
  private readonly buckets: Array<Omit<ServingHistoryBucket, 'start'> & { startMs: number }> = [];
  private last: ServingCounts | null = null;

  constructor(options: ServingHistoryOptions) {
    this.bucketMs = options.bucketMs ?? 60_000;
    this.keepMs = options.keepMs ?? 24 * 3_600_000;
    this.latencyBounds = [...options.latencyBounds].sort((a, b) => a - b);
    this.capacity = Math.max(1, Math.ceil(this.keepMs / this.bucketMs));
  }

  /** Not cumulative: one count per bound, then the count above the last bound. */
  private latencyCounts(cumulative: CumulativeBucket[]): number[] {
    const at = (le: number) => cumulative.find((b) => b.le === le)?.count ?? 0;
    const out: number[] = [];
    let prev = 0;
    for (const le of [...this.latencyBounds, Infinity]) {
      const c = at(le);
      out.push(Math.max(0, c - prev));
      prev = Math.max(prev, c);
    }
    return out;
  }

  /**
   * Add what the counters gained since the previous reading to the minute of `now`. The first reading of a process
   * counts from zero (its counters started with it); a counter that went down was reset and counts from zero too.
   */
  record(counts: ServingCounts, now = Date.now()): void {
    const prev = this.last;
    const reset = prev !== null && (counts.requests < prev.requests || counts.predictions < prev.predictions);
    const base = prev && !reset ? prev : null;
    const cur = this.latencyCounts(counts.latency);
    const before = base ? this.latencyCounts(base.latency) : cur.map(() => 0);
    this.last = { ...counts, latency: counts.latency.map((b) => ({ ...b })) };
    const bucket = this.bucketAt(now);
    bucket.requests += Math.max(0, counts.requests - (base?.requests ?? 0));
    bucket.errors4xx += Math.max(0, counts.errors4xx - (base?.errors4xx ?? 0));
    bucket.errors5xx += Math.max(0, counts.errors5xx - (base?.errors5xx ?? 0));
    bucket.predictions += Math.max(0, counts.predictions - (base?.predictions ?? 0));
    cur.forEach((c, i) => (bucket.latency[i] += Math.max(0, c - before[i])));
    this.trim(now);
  }

  private bucketAt(now: number) {
    const startMs = Math.floor(now / this.bucketMs) * this.bucketMs;
    const newest = this.buckets[this.buckets.length - 1];
    // A clock that went back adds to the newest minute rather than reordering the history.
    if (newest && newest.startMs >= startMs) return newest;
    const bucket = { startMs, requests: 0, errors4xx: 0, errors5xx: 0, predictions: 0, latency: new Array<number>(this.latencyBounds.length + 1).fill(0) };
    this.buckets.push(bucket);
    return bucket;
  }

  private trim(now: number): void {
    const oldest = Math.floor(now / this.bucketMs) * this.bucketMs - (this.capacity - 1) * this.bucketMs;
    let drop = 0;
    while (drop < this.buckets.length && this.buckets[drop].startMs < oldest) drop++;
    drop = Math.max(drop, this.buckets.length - this.capacity);
    if (drop > 0) this.buckets.splice(0, drop);
  }

  get size(): number {
    return this.buckets.length;
  }

  /**
   * The minutes of the last `keepMs` up to `now`, with latency percentiles from each minute's histogram counts; the
   * minute `now` falls in is marked `partial`.
   */
  view(now = Date.now()): ServingHistoryView {
    this.trim(now);
    const bounds = [...this.latencyBounds, Infinity];
    return {
      bucketSeconds: this.bucketMs / 1000,
      hours: this.keepMs / 3_600_000,
      buckets: this.buckets.map((b) => {
        let cumulative = 0;
        const hist = b.latency.map((c, i) => ({ le: bounds[i], count: (cumulative += c) }));
        return {
          start: new Date(b.startMs).toISOString(),
          requests: b.requests,
          errors4xx: b.errors4xx,
          errors5xx: b.errors5xx,
          predictions: b.predictions,
          p50Ms: ms(histogramQuantile(hist, 0.5)),
          p95Ms: ms(histogramQuantile(hist, 0.95)),
          p99Ms: ms(histogramQuantile(hist, 0.99)),
          partial: now < b.startMs + this.bucketMs,
        };
      }),
    };
  }

  toFile(now = Date.now()): ServingHistoryFile {
    return {
      schema: 1,
      savedAt: new Date(now).toISOString(),
      bucketSeconds: this.bucketMs / 1000,
      latencyBounds: [...this.latencyBounds],
      buckets: this.buckets.map(({ startMs, ...b }) => ({ start: new Date(startMs).toISOString(), ...b, latency: [...b.latency] })),
    };
  }

  /** A history from its file's content; throws on anything that is not one (or was made with other buckets). */
  static fromFile(data: unknown, options: ServingHistoryOptions, now = Date.now()): ServingHistory {
    const h = new ServingHistory(options);
    const f = data as Partial<ServingHistoryFile> | null;
    if (!f || typeof f !== 'object' || f.schema !== 1) throw new Error(`unknown schema ${JSON.stringify(f?.schema)}`);
    if (f.bucketSeconds !== h.bucketMs / 1000) throw new Error(`buckets of ${f.bucketSeconds} s, expected ${h.bucketMs / 1000} s`);
    if (!Array.isArray(f.latencyBounds) || f.latencyBounds.join() !== h.latencyBounds.join()) throw new Error('made with other latency buckets');
    if (!Array.isArray(f.buckets)) throw new Error('no buckets');
    let prev = -Infinity;
    for (const b of f.buckets) {
      const startMs = Date.parse(b?.start);
      const latency = b?.latency;
      if (!Number.isFinite(startMs) || startMs % h.bucketMs !== 0 || startMs <= prev) throw new Error(`bad bucket start ${JSON.stringify(b?.start)}`);
      if (![b.requests, b.errors4xx, b.errors5xx, b.predictions].every(isCount)) throw new Error(`bad counts in bucket ${b.start}`);
      if (!Array.isArray(latency) || latency.length !== h.latencyBounds.length + 1 || !latency.every(isCount)) throw new Error(`bad latency counts in bucket ${b.start}`);
      prev = startMs;
      if (startMs > now) continue; // written by a clock ahead of this one
      h.buckets.push({ startMs, requests: b.requests, errors4xx: b.errors4xx, errors5xx: b.errors5xx, predictions: b.predictions, latency: [...latency] });
    }
    h.trim(now);
    return h;
  }
}

/**
 * The history saved in `file`, or a new one when there is none. A file that cannot be read back does not stop the
 * server: `problem` says why, and the history starts fresh (the next save replaces the file).
 */
export async function loadServingHistory(
  file: string,
  options: ServingHistoryOptions,
  now = Date.now(),
): Promise<{ history: ServingHistory; problem: string | null }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { history: new ServingHistory(options), problem: null };
    return { history: new ServingHistory(options), problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    return { history: ServingHistory.fromFile(JSON.parse(text), options, now), problem: null };
  } catch (err) {
    return { history: new ServingHistory(options), problem: `${file} is unreadable (${(err as Error).message})` };
  }
}

/** Save atomically: a reader (or a crash) sees the previous history or this one, never half of it. */
export async function saveServingHistory(file: string, history: ServingHistory, now = Date.now()): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(history.toFile(now)) + '\n');
}
