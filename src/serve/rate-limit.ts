export interface RateLimitOptions {
  /** Requests a client may send at once (bucket size). */
  burst: number;
  /** Tokens added per second (sustained requests per second). */
  perSecond: number;
  /** Clients tracked at most; idle full buckets are dropped first. */
  maxClients?: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one token is back (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** A token bucket per client key (the client's IP address). */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.burst >= 1) || !(options.perSecond > 0)) throw new Error('rate limit needs burst >= 1 and perSecond > 0');
    this.maxClients = options.maxClients ?? 10_000;
  }

  take(key: string): RateDecision {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.prune(t);
      b = { tokens: this.options.burst, updated: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.options.burst, b.tokens + ((t - b.updated) / 1000) * this.options.perSecond);
      b.updated = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.options.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drop buckets that have refilled (their clients are idle); if none, the oldest ones. */
  private prune(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((t - b.updated) / 1000) * this.options.perSecond >= this.options.burst) this.buckets.delete(key);
    }
    if (this.buckets.size < this.maxClients) return;
    const drop = Math.ceil(this.maxClients / 10);
    let i = 0;
    for (const key of this.buckets.keys()) {
      if (i++ >= drop) break;
      this.buckets.delete(key);
    }
  }
}
