import { mapLimit } from '../data/concurrency.js';
import { prepareDecoded } from '../data/prepare.js';
import { inspectImage } from '../data/inspect.js';
import type { DataSource, SourceItem } from '../data/types.js';
import { predictProbabilities } from '../model/predict.js';
import type { RegisteredModel } from './registered-model.js';
import type { Progress } from '../progress/index.js';

export interface SourcePrediction {
  path: string;
  group: string;
  /** Upstream source of the file (from the data's manifest.csv), else the data source's own name. */
  source: string;
  /** p(cat), null when the file was rejected. */
  probability: number | null;
  isCat: boolean | null;
  /** Why the file could not be scored; '' when it was. */
  error: string;
}

/**
 * Score every image of a source with a registered model, in chunks (bounded memory), preparing each image exactly
 * like training (the whole view for a backbone model, the square for a CNN). Bad files are reported with their reason, never dropped.
 */
export async function predictSource(
  source: DataSource,
  registered: RegisteredModel,
  opts: PredictOptions = {},
): Promise<SourcePrediction[]> {
  return predictItems(source, await source.list(), registered, opts);
}

export interface PredictOptions {
  chunk?: number;
  concurrency?: number;
  onProgress?: Progress;
  /** Keep backbone features here (labelled evaluation sets seen again). */
  featureCacheDir?: string;
}

/** Score the given items of a source (in their order) with a registered model; see `predictSource`. */
export async function predictItems(
  source: DataSource,
  items: SourceItem[],
  registered: Pick<RegisteredModel, 'model' | 'card'>,
  opts: PredictOptions = {},
): Promise<SourcePrediction[]> {
  const size = registered.card.imageSize;
  const threshold = registered.card.threshold;
  const chunk = opts.chunk ?? 256;
  const out: SourcePrediction[] = [];
  for (let start = 0; start < items.length; start += chunk) {
    const part = items.slice(start, start + chunk);
    const prepared = await mapLimit(part, opts.concurrency ?? 4, async (item: SourceItem) => {
      try {
        const buf = await source.read(item);
        const check = await inspectImage(buf);
        if (check.reason || !check.decoded) return { item, error: check.reason || 'could not decode' };
        return { item, buf, pixels: await prepareDecoded(check.decoded, size) };
      } catch (err) {
        return { item, error: (err as Error).message };
      }
    });
    const good = prepared.filter((p): p is { item: SourceItem; buf: Buffer; pixels: Uint8Array } => 'pixels' in p && p.pixels !== undefined);
    const pixels = new Uint8Array(good.length * size * size * 3);
    good.forEach((g, i) => pixels.set(g.pixels, i * size * size * 3));
    // A backbone model reads each photo's whole view (from the bytes read above; cached by the prepared square).
    const files = new Map(good.map((g) => [g.item.path, g.buf]));
    const photos = async ({ path }: { path: string }) => files.get(path)!;
    const images = { n: good.length, size, pixels, paths: good.map((g) => g.item.path), groups: good.map((g) => g.item.group) };
    const probs = good.length ? await predictProbabilities(registered.model, images, 64, { featureCacheDir: opts.featureCacheDir, photos }) : new Float32Array(0);
    const byPath = new Map(good.map((g, i) => [g.item.path, probs[i]]));
    for (const p of prepared) {
      const prob = byPath.get(p.item.path);
      out.push({
        path: p.item.path,
        group: p.item.group,
        source: p.item.source,
        probability: prob ?? null,
        isCat: prob === undefined ? null : prob >= threshold,
        error: 'error' in p && p.error ? p.error : '',
      });
    }
    opts.onProgress?.(Math.min(items.length, start + chunk), items.length);
  }
  return out;
}
