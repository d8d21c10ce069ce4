/**
 * Collects single items into batches for a function that is cheaper per item in bulk (a model's forward pass).
 * Up to `concurrency` batches run at once (one per inference worker); while they run, new items wait, and the next
 * batch takes up to `maxBatch` of them. A lone item is not delayed: the first batch starts on the next turn of the
 * event loop.
 */
export class MicroBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 32,
    private readonly concurrency = 1,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  private schedule(): void {
    if (this.running >= this.concurrency || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.launch();
    });
  }

  private launch(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      void this.runOne(batch).finally(() => {
        this.running--;
        // A full batch goes at once; a partial one waits a turn so requests that finished decoding can join it.
        if (this.queue.length >= this.maxBatch) this.launch();
        else this.schedule();
      });
    }
  }

  private async runOne(batch: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }>): Promise<void> {
    try {
      const out = await this.runBatch(batch.map((b) => b.item));
      if (out.length !== batch.length) throw new Error(`batch returned ${out.length} results for ${batch.length} items`);
      batch.forEach((b, i) => b.resolve(out[i]));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
