import { createHash } from 'node:crypto';
import path from 'node:path';
import { exists, readJson, writeJsonAtomic } from '../storage/atomic.js';
import { paths } from '../storage/paths.js';
import { mapLimit } from './concurrency.js';
import { DEFAULT_LIMITS, type ImageLimits } from './inspect.js';
import { buildManifest, readManifest, rejectedByReason, writeManifest } from './manifest.js';
import { normaliseMix, sampleToMix, shuffled } from './mix.js';
import { decodeRgb, prepareDecoded } from './prepare.js';
import { packKey, readPack, writePack, type Pack } from './prepared-cache.js';
import { openSource } from './sources/index.js';
import { DEFAULT_NEAR_DUP_DISTANCE, DEFAULT_SPLIT_FRACTIONS, SPLITS, splitEntries } from './split.js';
import { DEFAULT_MIX, DEFAULT_POSITIVE_GROUP, type DataSource, type ManifestEntry, type PreparedDataset, type PreparedSplit, type Split } from './types.js';
import type { Progress } from '../progress/index.js';

export interface IngestOptions {
  /** A source object, or a spec for `openSource` (folder path, ...). */
  source?: DataSource;
  spec?: string;
  /** Folder -> group map for folder sources. */
  groups?: Record<string, string>;
  name: string;
  /** Side of the square prepared images. Default 64. */
  size?: number;
  mix?: Record<string, number>;
  /** Total sample size; default: the largest sample that keeps the mix. */
  n?: number;
  seed?: string | number;
  splitFractions?: Record<Split, number>;
  nearDupDistance?: number;
  positiveGroup?: string;
  limits?: ImageLimits;
  concurrency?: number;
  /**
   * Prepares the images the prepared-pixel cache lacks (in their order); default: in this process. The pipelines
   * pass one that runs them as jobs (src/jobs/prepared-pixel-jobs.ts).
   */
  prepareImages?: PrepareImages;
  onProgress?: Progress;
}

/** Prepare `items` of the ingested source at `size` exactly like `prepareDecoded(decodeRgb(...))`; same order. */
export type PrepareImages = (items: ManifestEntry[], size: number, limits: ImageLimits) => Promise<Uint8Array[]>;

/** One line of split.json per selected image, in the order the prepared split holds them. */
export interface SplitRow {
  path: string;
  sha256: string;
  group: string;
  label: 0 | 1;
}

export interface SplitFile {
  name: string;
  key: string;
  packKey: string;
  size: number;
  seed: string | number;
  fractions: Record<Split, number>;
  nearDupDistance: number;
  mix: Record<string, number>;
  splits: Record<Split, SplitRow[]>;
}

export interface IngestSummary {
  name: string;
  source: string;
  size: number;
  seed: string | number;
  mix: Record<string, number>;
  files: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  perGroup: Record<string, { files: number; accepted: number; rejected: number; selected: number }>;
  /** Accepted images of groups the mix does not ask for (not used). */
  outsideMix: number;
  selected: number;
  splits: Record<Split, Record<string, number>>;
  duplicates: { clusters: number; multiImageClusters: number; largestCluster: number; exactPairs: number; nearPairs: number; nearDupDistance: number };
  /** Selected images smaller than the prepared size on their short side (enlarged: blurrier), per group. */
  upscaled: Record<string, number>;
  cache: { manifestReused: number; preparedHit: boolean; packKey: string };
  timingsMs: { manifest: number; split: number; prepare: number; total: number };
  createdAt: string;
}

export interface IngestResult {
  manifest: ManifestEntry[];
  summary: IngestSummary;
  prepared: PreparedDataset;
}

const datasetFile = (name: string, file: string) => path.join(paths.dataset(name), file);

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw new Error(`bad data set name "${name}": use letters, digits, . _ -`);
}

async function previousAnalyses(name: string, limits: ImageLimits): Promise<Map<string, ManifestEntry> | undefined> {
  const manifestFile = datasetFile(name, 'manifest.csv');
  const limitsFile = datasetFile(name, 'limits.json');
  if (!(await exists(manifestFile)) || !(await exists(limitsFile))) return undefined;
  const prevLimits = await readJson<ImageLimits>(limitsFile).catch(() => undefined);
  if (JSON.stringify(prevLimits) !== JSON.stringify(limits)) return undefined;
  const entries = await readManifest(manifestFile).catch(() => [] as ManifestEntry[]);
  return new Map(entries.filter((e) => e.status === 'ok').map((e) => [e.sha256, e]));
}

function assembleSplit(rows: SplitRow[], pack: Pack): PreparedSplit {
  const stride = pack.size * pack.size * 3;
  const start = rows.length ? pack.indexOf(rows[0].sha256) : 0;
  const contiguous = start >= 0 && rows.every((r, i) => pack.indexOf(r.sha256) === start + i);
  let pixels: Uint8Array;
  if (contiguous) {
    pixels = pack.pixels.subarray(start * stride, (start + rows.length) * stride);
  } else {
    pixels = new Uint8Array(rows.length * stride);
    rows.forEach((r, i) => {
      const px = pack.row(r.sha256);
      if (!px) throw new Error(`prepared cache ${pack.key} lacks image ${r.path} (${r.sha256})`);
      pixels.set(px, i * stride);
    });
  }
  return {
    size: pack.size, n: rows.length, pixels, labels: Uint8Array.from(rows.map((r) => r.label)),
    groups: rows.map((r) => r.group), paths: rows.map((r) => r.path),
  };
}

function assemble(split: SplitFile, pack: Pack): PreparedDataset {
  return {
    name: split.name, size: split.size, key: split.key,
    train: assembleSplit(split.splits.train, pack), val: assembleSplit(split.splits.val, pack), test: assembleSplit(split.splits.test, pack),
  };
}

/**
 * Source -> manifest -> mix sample -> duplicate-aware split -> prepared pixels (cached). Writes
 * `<dataset>/manifest.csv`, `split.json` and `summary.json` under paths.dataset(name).
 */
export async function ingestDataset(opts: IngestOptions): Promise<IngestResult> {
  const t0 = performance.now();
  checkName(opts.name);
  const size = opts.size ?? 64;
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new Error(`size must be an integer from 8 to 1024, got ${size}`);
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const mix = normaliseMix(opts.mix ?? DEFAULT_MIX);
  const seed = opts.seed ?? 1;
  const fractions = opts.splitFractions ?? DEFAULT_SPLIT_FRACTIONS;
  const nearDupDistance = opts.nearDupDistance ?? DEFAULT_NEAR_DUP_DISTANCE;
  const concurrency = opts.concurrency ?? 4;
  const source = opts.source ?? (opts.spec ? await openSource(opts.spec, { groups: opts.groups }) : undefined);
  if (!source) throw new Error('ingestDataset needs a source or a spec');

  // 1. Manifest (reusing an earlier run's checks for unchanged content); images decoded now are prepared at once.
  const decodedNow = new Map<string, Uint8Array>();
  const { entries: manifest, reused } = await buildManifest(source, {
    positiveGroup: opts.positiveGroup ?? DEFAULT_POSITIVE_GROUP, limits, concurrency, onProgress: opts.onProgress,
    previous: await previousAnalyses(opts.name, limits),
    onDecoded: async (entry, image) => {
      if (!decodedNow.has(entry.sha256)) decodedNow.set(entry.sha256, await prepareDecoded(image, size));
    },
  });
  const t1 = performance.now();

  // 2. Sample to the mix and split.
  const sample = sampleToMix(manifest, mix, { seed, n: opts.n });
  const split = splitEntries(sample.selected, { seed, fractions, nearDupDistance });
  const splitOf = new Map(split.entries.map((e) => [e.path, e.split!]));
  for (const e of manifest) {
    const s = splitOf.get(e.path);
    if (s) e.split = s;
    else delete e.split;
  }
  const rowsBySplit = {} as Record<Split, SplitRow[]>;
  for (const s of SPLITS) {
    const rows = split.entries.filter((e) => e.split === s).map((e) => ({ path: e.path, sha256: e.sha256, group: e.group, label: e.label }));
    rowsBySplit[s] = shuffled(rows, `${seed}:order:${s}`);
  }
  const t2 = performance.now();

  // 3. Prepared pixels: one pack per (contents, settings).
  const selectedShas = [...new Set(SPLITS.flatMap((s) => rowsBySplit[s].map((r) => r.sha256)))];
  const key = packKey(selectedShas, { size });
  let pack = await readPack(key);
  const preparedHit = pack !== undefined;
  if (!pack) {
    const bySha = new Map(split.entries.map((e) => [e.sha256, e]));
    const todo = selectedShas.filter((s) => !decodedNow.has(s));
    if (opts.prepareImages && todo.length) {
      const prepared = await opts.prepareImages(todo.map((sha) => bySha.get(sha)!), size, limits);
      todo.forEach((sha, i) => decodedNow.set(sha, prepared[i]));
    } else {
      let done = 0;
      await mapLimit(todo, concurrency, async (sha) => {
        const e = bySha.get(sha)!;
        const buf = await source.read(e);
        decodedNow.set(sha, await prepareDecoded(await decodeRgb(buf, limits.maxPixels), size));
        opts.onProgress?.(++done, todo.length, 'preparing');
      });
    }
    pack = await writePack(key, size, new Map(selectedShas.map((s) => [s, decodedNow.get(s)!])));
  }
  const t3 = performance.now();

  const datasetKey = createHash('sha256')
    .update(JSON.stringify({ key, size, splits: SPLITS.map((s) => rowsBySplit[s].map((r) => [r.sha256, r.group, r.label])) }))
    .digest('hex');
  const splitFile: SplitFile = { name: opts.name, key: datasetKey, packKey: key, size, seed, fractions, nearDupDistance, mix, splits: rowsBySplit };
  const prepared = assemble(splitFile, pack);

  const perGroup: IngestSummary['perGroup'] = {};
  for (const e of manifest) {
    const g = (perGroup[e.group] ??= { files: 0, accepted: 0, rejected: 0, selected: 0 });
    g.files++;
    if (e.status === 'ok') g.accepted++;
    else g.rejected++;
    if (e.split) g.selected++;
  }
  const upscaled: Record<string, number> = {};
  for (const e of split.entries) if (Math.min(e.width, e.height) < size) upscaled[e.group] = (upscaled[e.group] ?? 0) + 1;
  const accepted = manifest.filter((e) => e.status === 'ok').length;
  const summary: IngestSummary = {
    name: opts.name, source: source.id, size, seed, mix,
    files: manifest.length, accepted, rejected: manifest.length - accepted, rejectedByReason: rejectedByReason(manifest),
    perGroup, outsideMix: sample.outsideMix, selected: split.entries.length, splits: split.counts,
    duplicates: {
      clusters: split.clusters.total, multiImageClusters: split.clusters.multi, largestCluster: split.clusters.largest,
      exactPairs: split.clusters.exactPairs, nearPairs: split.clusters.nearPairs, nearDupDistance,
    },
    upscaled,
    cache: { manifestReused: reused, preparedHit, packKey: key },
    timingsMs: { manifest: Math.round(t1 - t0), split: Math.round(t2 - t1), prepare: Math.round(t3 - t2), total: 0 },
    createdAt: new Date().toISOString(),
  };
  await writeManifest(datasetFile(opts.name, 'manifest.csv'), manifest);
  await writeJsonAtomic(datasetFile(opts.name, 'limits.json'), limits);
  await writeJsonAtomic(datasetFile(opts.name, 'split.json'), splitFile);
  summary.timingsMs.total = Math.round(performance.now() - t0);
  await writeJsonAtomic(datasetFile(opts.name, 'summary.json'), summary);
  return { manifest, summary, prepared };
}

/** Load an ingested data set's prepared splits from the cache (no decoding). */
export async function loadPreparedDataset(name: string): Promise<PreparedDataset> {
  checkName(name);
  const file = datasetFile(name, 'split.json');
  if (!(await exists(file))) throw new Error(`no data set "${name}" in ${paths.datasets()}: run \`areyouacat data ingest --name ${name}\` first`);
  const split = await readJson<SplitFile>(file);
  const pack = await readPack(split.packKey);
  if (!pack) throw new Error(`prepared images of data set "${name}" are not in the cache (${paths.preparedCache()}): ingest it again`);
  return assemble(split, pack);
}

export async function loadDatasetSummary(name: string): Promise<IngestSummary> {
  checkName(name);
  const file = datasetFile(name, 'summary.json');
  if (!(await exists(file))) throw new Error(`no data set "${name}" in ${paths.datasets()}: run \`areyouacat data ingest --name ${name}\` first`);
  return readJson<IngestSummary>(file);
}

export async function loadDatasetManifest(name: string): Promise<ManifestEntry[]> {
  checkName(name);
  return readManifest(datasetFile(name, 'manifest.csv'));
}
