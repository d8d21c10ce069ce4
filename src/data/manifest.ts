import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from '../storage/atomic.js';
import { mapLimit } from './concurrency.js';
import { DEFAULT_LIMITS, inspectImage, type ImageLimits } from './inspect.js';
import type { DecodedImage } from './prepare.js';
import { DEFAULT_POSITIVE_GROUP, type DataSource, type ManifestEntry, type SourceItem, type Split } from './types.js';
import type { Progress } from '../progress/index.js';

export const MANIFEST_COLUMNS = [
  'path', 'group', 'label', 'source', 'sha256', 'bytes', 'format', 'width', 'height', 'phash', 'status', 'reason', 'split',
] as const;

export interface BuildManifestOptions {
  positiveGroup?: string;
  limits?: ImageLimits;
  /** Files decoded at once (sharp decodes on the thread pool). Default 4. */
  concurrency?: number;
  onProgress?: Progress;
  /** Accepted entries of an earlier manifest, by sha256: their checks and hash are reused without decoding. */
  previous?: Map<string, ManifestEntry>;
  /** Called with each accepted image decoded in this run, so it can be prepared without a second decode. */
  onDecoded?: (entry: ManifestEntry, image: DecodedImage) => void | Promise<void>;
}

export interface ManifestResult {
  entries: ManifestEntry[];
  /** Entries whose analysis came from `previous` (no decode). */
  reused: number;
}

/** Read, hash and check every file a source offers. Bad files become rejected entries; nothing is dropped. */
export async function buildManifest(source: DataSource, opts: BuildManifestOptions = {}): Promise<ManifestResult> {
  const positive = opts.positiveGroup ?? DEFAULT_POSITIVE_GROUP;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const items = await source.list();
  let done = 0;
  let reused = 0;
  opts.onProgress?.(0, items.length, 'checking images');
  const entries = await mapLimit(items, opts.concurrency ?? 4, async (item: SourceItem) => {
    const entry = await checkItem(source, item, positive, limits, opts);
    if (entry.reused) reused++;
    opts.onProgress?.(++done, items.length, item.path);
    return entry.entry;
  });
  return { entries, reused };
}

async function checkItem(
  source: DataSource, item: SourceItem, positive: string, limits: ImageLimits, opts: BuildManifestOptions,
): Promise<{ entry: ManifestEntry; reused: boolean }> {
  const base: ManifestEntry = {
    path: item.path, group: item.group, label: item.group === positive ? 1 : 0, source: item.source,
    sha256: '', bytes: 0, format: '', width: 0, height: 0, phash: '', status: 'rejected', reason: '',
  };
  let buf: Buffer;
  try {
    buf = await source.read(item);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    base.reason = e.code === 'ENOENT' ? 'missing file' : `unreadable: ${String(e.message).split('\n')[0]}`;
    return { entry: base, reused: false };
  }
  base.bytes = buf.length;
  base.sha256 = createHash('sha256').update(buf).digest('hex');
  const prev = opts.previous?.get(base.sha256);
  if (prev && prev.status === 'ok' && prev.phash) {
    return { entry: { ...base, format: prev.format, width: prev.width, height: prev.height, phash: prev.phash, status: 'ok' }, reused: true };
  }
  const check = await inspectImage(buf, limits);
  const entry: ManifestEntry = {
    ...base, format: check.format, width: check.width, height: check.height, phash: check.phash,
    status: check.reason ? 'rejected' : 'ok', reason: check.reason,
  };
  if (check.decoded && opts.onDecoded) await opts.onDecoded(entry, check.decoded);
  return { entry, reused: false };
}

export function manifestToCsv(entries: readonly ManifestEntry[]): string {
  return stringify(
    entries.map((e) => ({ ...e, split: e.split ?? '' })),
    { header: true, columns: [...MANIFEST_COLUMNS] },
  );
}

export function manifestFromCsv(text: string, origin = 'manifest'): ManifestEntry[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true });
  } catch (err) {
    throw new Error(`${origin} is not valid CSV: ${(err as Error).message}`);
  }
  const missing = MANIFEST_COLUMNS.filter((c) => rows.length && !(c in rows[0]));
  if (missing.length) throw new Error(`${origin} lacks columns: ${missing.join(', ')}`);
  return rows.map((r, i) => {
    const status = r.status;
    if (status !== 'ok' && status !== 'rejected') throw new Error(`${origin} row ${i + 2}: bad status "${status}"`);
    const e: ManifestEntry = {
      path: r.path, group: r.group, label: r.label === '1' ? 1 : 0, source: r.source, sha256: r.sha256,
      bytes: Number(r.bytes), format: r.format, width: Number(r.width), height: Number(r.height), phash: r.phash,
      status, reason: r.reason,
    };
    if (r.split) e.split = r.split as Split;
    return e;
  });
}

export async function writeManifest(file: string, entries: readonly ManifestEntry[]): Promise<void> {
  await writeFileAtomic(file, manifestToCsv(entries));
}

export async function readManifest(file: string): Promise<ManifestEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  return manifestFromCsv(text, file);
}

/** Count rejected entries by reason, with the variable detail (sizes, messages) cut off after the first colon. */
export function rejectedByReason(entries: readonly ManifestEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    if (e.status !== 'rejected') continue;
    const kind = e.reason.split(':')[0];
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}
