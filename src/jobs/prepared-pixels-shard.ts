import { DEFAULT_LIMITS } from '../data/inspect.js';
import { decodeRgb, prepareDecoded } from '../data/prepare.js';
import type { SourceItem } from '../data/types.js';
import { mapLimit } from '../data/concurrency.js';
import { DeterministicJobError, type JobContext } from './job.js';
import { sourceFor } from './feature-shard.js';

/** Job kind of an ingest shard: prepare some images of a source at one size for the prepared-pixel cache. */
export const PREPARED_PIXELS_KIND = 'prepared-pixels';

export interface PreparedPixelsInput {
  /** Data source spec every worker can open: a folder all of them can read, or s3://bucket/prefix. */
  source: string;
  items: Array<Pick<SourceItem, 'path' | 'group' | 'source'>>;
  size: number;
  maxPixels?: number;
}

export interface PreparedPixelsOutput {
  /** n x size x size x 3 bytes (RGB), base64 (JSON travels through the queue). */
  pixels: string;
}

/** The job handler: read each image and prepare it exactly as ingest does; a file that cannot be prepared fails the job. */
export async function preparedPixelsJob(input: PreparedPixelsInput, ctx: JobContext = {}): Promise<PreparedPixelsOutput> {
  if (!Number.isInteger(input.size) || input.size < 8 || input.size > 1024) {
    throw new DeterministicJobError(`prepared-pixel shard: size must be an integer from 8 to 1024, got ${input.size}`);
  }
  if (!Array.isArray(input.items) || input.items.length === 0) throw new DeterministicJobError('prepared-pixel shard: no items');
  const source = await sourceFor(input.source);
  const per = input.size * input.size * 3;
  const out = new Uint8Array(input.items.length * per);
  let done = 0;
  await mapLimit(input.items, 4, async (item, i) => {
    const buf = await source.read({ ...item });
    try {
      out.set(await prepareDecoded(await decodeRgb(buf, input.maxPixels ?? DEFAULT_LIMITS.maxPixels), input.size), i * per);
    } catch (err) {
      throw new DeterministicJobError(`cannot prepare ${item.path}: ${(err as Error).message}`);
    }
    ctx.onProgress?.(++done, input.items.length);
  });
  return { pixels: Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64') };
}
