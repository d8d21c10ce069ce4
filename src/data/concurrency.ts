/**
 * Map over items with at most `limit` calls in flight, keeping the input order in the result.
 * sharp decodes on libuv's thread pool, so a handful of concurrent calls keeps both cores busy.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * At most `limit` holders at once; the others wait in arrival order. The server bounds concurrent image decodes
 * with one, so the memory of decoding does not grow with the number of clients.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`a semaphore needs limit >= 1 (got ${limit})`);
  }

  /** Holders right now, and callers waiting for a turn. */
  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on directly
      else this.active--;
    }
  }
}
