/**
 * Collects single items into batches for a function that is cheaper per item in bulk (a model's forward pass).
 * While one batch runs, new items wait; the next batch takes up to `maxBatch` of them. A lone item is not delayed:
 * the first batch starts on the next turn of the event loop.
 */
export class MicroBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 32,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting or running. */
  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.runBatch(batch.map((b) => b.item));
          if (out.length !== batch.length) throw new Error(`batch returned ${out.length} results for ${batch.length} items`);
          batch.forEach((b, i) => b.resolve(out[i]!));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
        // Let requests that finished decoding meanwhile join the next batch.
        if (this.queue.length > 0 && this.queue.length < this.maxBatch) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }
}
