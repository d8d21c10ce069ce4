import type { PrepareImages } from '../data/ingest.js';
import type { Progress } from '../progress/index.js';
import type { Executor } from './job.js';
import { PREPARED_PIXELS_KIND, type PreparedPixelsInput, type PreparedPixelsOutput } from './prepared-pixels-shard.js';

/**
 * Ingest's image preparation as jobs: the images the prepared-pixel cache lacks, in shards of `shardSize`
 * (default 64) read from `sourceSpec` by the executor's workers; the pixels come back with the jobs, in order.
 */
export function prepareImagesWithJobs(executor: Executor, sourceSpec: string, opts: { shardSize?: number; onProgress?: Progress } = {}): PrepareImages {
  return async (items, size, limits) => {
    const shardSize = opts.shardSize ?? 64;
    const jobs: Array<{ kind: string; input: PreparedPixelsInput }> = [];
    for (let s = 0; s < items.length; s += shardSize) {
      const part = items.slice(s, s + shardSize).map((e) => ({ path: e.path, group: e.group, source: e.source }));
      jobs.push({ kind: PREPARED_PIXELS_KIND, input: { source: sourceSpec, items: part, size, maxPixels: limits.maxPixels } });
    }
    const results = await executor.run<PreparedPixelsOutput>(jobs, { onProgress: opts.onProgress, label: 'prepare jobs' });
    const per = size * size * 3;
    return results.flatMap((r, j) => {
      const buf = Buffer.from(r.pixels, 'base64');
      const n = jobs[j].input.items.length;
      if (buf.byteLength !== n * per) throw new Error(`prepared-pixel shard returned ${buf.byteLength} bytes for ${n} images`);
      return Array.from({ length: n }, (_, i) => new Uint8Array(buf.buffer, buf.byteOffset + i * per, per).slice());
    });
  };
}
