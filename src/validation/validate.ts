import crypto from 'node:crypto';
import { mapLimit } from '../data/concurrency.js';
import { thumbnailDataUri } from '../data/thumbnail.js';
import type { ManifestEntry, PreparedSplit } from '../data/types.js';
import { mergeValidationConfig, type ValidationConfigInput } from './config.js';
import { splitOf, type CheckContext, type MeasuredPrepared, type UnreadableImage } from './context.js';
import { balanceCheck } from './checks/balance.js';
import { duplicatesCheck, findDuplicateClusters, leakageCheck } from './checks/duplicates.js';
import { driftCheck } from './checks/drift.js';
import { integrityCheck } from './checks/integrity.js';
import { labelErrorsCheck } from './checks/labelErrors.js';
import { outliersCheck } from './checks/outliers.js';
import { shortcutsCheck } from './checks/shortcuts.js';
import { measureImageFile, measurePreparedImage, PropertyCache } from './properties.js';
import type { CheckResult, MeasuredImage, ValidationReport } from './types.js';
import type { Progress } from '../progress/index.js';

export interface ValidateDatasetInput {
  /** Name recorded in the report (and used by `saveValidationReport`). */
  dataset?: string;
  /** Every manifest row, accepted and rejected. */
  entries: ManifestEntry[];
  /** The bytes of an accepted entry's file. */
  readImage: (entry: ManifestEntry) => Promise<Buffer>;
  /** Prepared splits, when available: their properties are re-measured to see what survives preparation. */
  prepared?: { train: PreparedSplit; val: PreparedSplit; test: PreparedSplit };
  config?: ValidationConfigInput;
  /** Where measured properties are cached (default `<data root>/cache/properties`). */
  cacheDir?: string;
  /**
   * The pretrained backbone the data is prepared for (null: a CNN trained from scratch, which reads the square);
   * undefined when not known. The shortcut check speaks of a backbone's whole view only when there may be one.
   */
  backbone?: string | null;
  onProgress?: Progress;
}

function measurePrepared(prepared: NonNullable<ValidateDatasetInput['prepared']>): MeasuredPrepared[] {
  const out: MeasuredPrepared[] = [];
  for (const split of ['train', 'val', 'test'] as const) {
    const s = prepared[split];
    if (!s) continue;
    if (s.pixels.length !== s.n * s.size * s.size * 3) {
      throw new Error(`prepared ${split} split holds ${s.pixels.length} bytes, expected ${s.n}x${s.size}x${s.size}x3`);
    }
    for (let i = 0; i < s.n; i++) {
      out.push({ path: s.paths[i], group: s.groups[i], label: s.labels[i], split, props: measurePreparedImage(s.pixels, s.size, i) });
    }
  }
  return out;
}

/**
 * Run every validation check over a manifest. Properties are measured once per image (cached by sha256) with
 * bounded concurrency; nothing is written except the property cache. See `saveValidationReport` and
 * `assertValidationGate` for what to do with the result.
 */
export async function validateDataset(input: ValidateDatasetInput): Promise<ValidationReport> {
  const config = mergeValidationConfig(input.config);
  const timings: Record<string, number> = {};
  const started = Date.now();
  let t = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - t;
    t = Date.now();
  };
  const cache = new PropertyCache(config.propertySize, input.cacheDir);
  const accepted = input.entries.filter((e) => e.status === 'ok');
  const byPath = new Map(input.entries.map((e) => [e.path, e]));
  const unreadable: UnreadableImage[] = [];
  let done = 0;
  let cacheHits = 0;
  const measuredOrNull = await mapLimit(accepted, config.concurrency, async (entry): Promise<MeasuredImage | null> => {
    try {
      let sha = entry.sha256;
      let props = sha ? await cache.get(sha) : undefined;
      if (props) cacheHits++;
      else {
        const buf = await input.readImage(entry);
        if (!sha) sha = crypto.createHash('sha256').update(buf).digest('hex');
        props = await measureImageFile(buf, config.propertySize, { width: entry.width, height: entry.height });
        await cache.set(sha, props);
      }
      return { path: entry.path, group: entry.group, label: entry.label, split: splitOf(entry), sha256: sha, phash: entry.phash, props };
    } catch (err) {
      unreadable.push({ path: entry.path, group: entry.group, split: splitOf(entry), error: String((err as Error).message ?? err).split('\n')[0] });
      return null;
    } finally {
      input.onProgress?.(++done, accepted.length, 'measuring');
    }
  });
  const measured = measuredOrNull.filter((m): m is MeasuredImage => m !== null);
  lap('measure');
  const prepared = input.prepared ? measurePrepared(input.prepared) : undefined;
  lap('measurePrepared');

  const thumbs = new Map<string, Promise<string | undefined>>();
  const ctx: CheckContext = {
    config,
    entries: input.entries,
    measured,
    unreadable,
    prepared,
    preparedSize: input.prepared?.train.size,
    backbone: input.backbone,
    thumbnail(path: string) {
      let p = thumbs.get(path);
      if (!p) {
        const entry = byPath.get(path);
        p = entry
          ? input.readImage(entry).then((buf) => thumbnailDataUri(buf, { size: config.thumbnailSize, fit: 'inside', background: '#ffffff', lenient: true })).catch(() => undefined)
          : Promise.resolve(undefined);
        thumbs.set(path, p);
      }
      return p;
    },
  };

  const checks: CheckResult[] = [];
  const run = async (name: string, fn: () => CheckResult | Promise<CheckResult>) => {
    checks.push(await fn());
    lap(name);
  };
  await run('integrity', () => integrityCheck(ctx));
  await run('group-balance', () => balanceCheck(ctx));
  const clusters = findDuplicateClusters(measured, config.duplicates.maxHamming, config.duplicates.maxLayoutDifference);
  lap('duplicateSearch');
  await run('duplicates', () => duplicatesCheck(ctx, clusters));
  await run('split-leakage', () => leakageCheck(ctx, clusters));
  await run('property-outliers', () => outliersCheck(ctx));
  await run('property-drift', () => driftCheck(ctx));
  await run('property-label-correlation', () => shortcutsCheck(ctx));
  await run('label-errors', () => labelErrorsCheck(ctx, (d, n) => input.onProgress?.(d, n, 'label model folds')));
  timings.total = Date.now() - started;
  timings.cacheHits = cacheHits;

  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return {
    createdAt: new Date().toISOString(),
    dataset: input.dataset ?? 'dataset',
    config,
    summary,
    counts: {
      entries: input.entries.length,
      accepted: accepted.length,
      rejected: input.entries.length - accepted.length,
      measured: measured.length,
      prepared: prepared?.length ?? 0,
    },
    timings,
    checks,
  };
}
