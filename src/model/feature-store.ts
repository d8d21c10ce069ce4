import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Backbone features kept on disk one row per image, keyed by a hash of the image's own pixels and the view, so any
 * subset of images (another split, a data set with one source left out) reads the rows an earlier run computed.
 * One append-only file per backbone, image size and view: records of a 16-byte key and `dim` float32 values.
 * Appends are whole records in one write; a torn last record (a crash mid-write) is ignored on reading.
 */
export class FeatureStore {
  private rows: Map<string, Float32Array> | null = null;
  private loadedBytes = -1;
  readonly file: string;

  constructor(cacheDir: string, name: string, readonly dim: number) {
    this.file = path.join(cacheDir, `${name}.rows`);
  }

  private get recordBytes(): number {
    return KEY_BYTES + this.dim * 4;
  }

  /** Read (or re-read after another writer appended) every complete record. */
  async load(): Promise<Map<string, Float32Array>> {
    const stat = await fs.stat(this.file).catch(() => null);
    const bytes = stat?.size ?? 0;
    if (this.rows && bytes === this.loadedBytes) return this.rows;
    const rows = new Map<string, Float32Array>();
    if (bytes > 0) {
      const buf = await fs.readFile(this.file);
      const whole = Math.floor(buf.byteLength / this.recordBytes);
      const copy = new Uint8Array(buf.buffer, buf.byteOffset, whole * this.recordBytes).slice();
      for (let r = 0; r < whole; r++) {
        const at = r * this.recordBytes;
        const key = Buffer.from(copy.buffer, at, KEY_BYTES).toString('hex');
        rows.set(key, new Float32Array(copy.buffer, at + KEY_BYTES, this.dim));
      }
    }
    this.rows = rows;
    this.loadedBytes = bytes;
    return rows;
  }

  /** Append rows (one write, so concurrent appenders never interleave inside a record). */
  async append(entries: Array<{ key: string; values: Float32Array }>): Promise<void> {
    if (entries.length === 0) return;
    const out = Buffer.alloc(entries.length * this.recordBytes);
    entries.forEach((e, i) => {
      if (e.values.length !== this.dim) throw new Error(`feature row has ${e.values.length} values, expected ${this.dim}`);
      const at = i * this.recordBytes;
      Buffer.from(e.key, 'hex').copy(out, at);
      Buffer.from(e.values.buffer, e.values.byteOffset, e.values.byteLength).copy(out, at + KEY_BYTES);
    });
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const handle = await fs.open(this.file, 'a');
    try {
      await handle.write(out, 0, out.byteLength);
    } finally {
      await handle.close();
    }
    const before = this.loadedBytes;
    const rows = this.rows ?? new Map<string, Float32Array>();
    for (const e of entries) rows.set(e.key, e.values.slice());
    this.rows = rows;
    // When nobody else appended meanwhile the rows in memory are the file; else the next load reads it again.
    const size = (await fs.stat(this.file)).size;
    this.loadedBytes = size === Math.max(0, before) + out.byteLength ? size : -1;
  }
}

const KEY_BYTES = 16;

/** The store key of one image: a hash of its pixels (and nothing about where it sits in a batch). */
export function pixelKey(pixels: Uint8Array): string {
  return createHash('sha256').update(pixels).digest('hex').slice(0, KEY_BYTES * 2);
}

const stores = new Map<string, FeatureStore>();

/** One store object per file in this process, so rows read once are not read again. */
export function featureStore(cacheDir: string, name: string, dim: number): FeatureStore {
  const key = path.resolve(cacheDir, name);
  let store = stores.get(key);
  if (!store) {
    store = new FeatureStore(cacheDir, name, dim);
    stores.set(key, store);
  }
  return store;
}
