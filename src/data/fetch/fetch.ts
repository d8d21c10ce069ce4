import fsp from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { exists, readJson, writeFileAtomic, writeJsonAtomic } from '../../storage/atomic.js';
import { paths } from '../../storage/paths.js';
import { downloadFile } from './download.js';
import { getRecipe, type ArchiveKind, type FetchRecipe } from './recipes.js';
import { extractArchive } from './unpack.js';
import type { Progress } from '../../progress/index.js';

export interface FetchOptions {
  onProgress?: Progress;
  signal?: AbortSignal;
  /** Download from here instead of the recipe's URL (a mirror). */
  url?: string;
  /** Expected sha256 of the download, overriding the recipe's. */
  sha256?: string;
  /** Keep the downloaded archive in the downloads folder so a later fetch needs no network (default true). */
  keepArchive?: boolean;
  /** Rebuild the data set even when it is already there. */
  force?: boolean;
}

/** What `fetch.json` in the data set folder records. */
export interface FetchRecord {
  recipe: string;
  url: string;
  archive: string;
  bytes: number;
  sha256: string;
  md5: string;
  /** Which expected checksums the download was verified against ([] when none was known: first use). */
  verifiedWith: string[];
  fetchedAt: string;
  groups: Record<string, number>;
  files: number;
}

export interface FetchResult extends FetchRecord {
  /** Folder in the `<group>/<file>` layout with a manifest.csv: give it to `data ingest`. */
  dir: string;
  /** True when the data set was already there and nothing was done. */
  alreadyThere: boolean;
}

/** Where a recipe's data set lands: `<data>/datasets/<name>/raw`, with `fetch.json` beside it. */
export function fetchedDir(name: string): string {
  return path.join(paths.dataset(name), 'raw');
}

async function walkFiles(dir: string, rel = '', out: string[] = []): Promise<string[]> {
  for (const e of await fsp.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walkFiles(dir, r, out);
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/**
 * Download a public data set, verify it, unpack it and lay it out as `<group>/<file>` plus manifest.csv
 * (path, label, source) under `fetchedDir(recipe.name)`. The download resumes after an interruption. Nothing
 * appears in the data set folder until everything succeeded; a checksum failure leaves no unpacked files.
 * When the recipe pins no sha256, the observed one is returned and recorded in fetch.json, and later
 * downloads are checked against it.
 */
export async function fetchDataset(recipeOrName: FetchRecipe | string, opts: FetchOptions = {}): Promise<FetchResult> {
  const recipe = typeof recipeOrName === 'string' ? getRecipe(recipeOrName) : recipeOrName;
  const datasetDir = paths.dataset(recipe.name);
  const rawDir = fetchedDir(recipe.name);
  const infoFile = path.join(datasetDir, 'fetch.json');
  const url = opts.url ?? recipe.url;
  const previous = (await exists(infoFile)) ? await readJson<FetchRecord>(infoFile).catch(() => undefined) : undefined;
  if (!opts.force && previous && (await exists(path.join(rawDir, 'manifest.csv')))) {
    return { ...previous, dir: rawDir, alreadyThere: true };
  }

  const expectedSha = opts.sha256 ?? recipe.sha256 ?? (previous?.url === url ? previous.sha256 : undefined);
  const verifiedWith = [expectedSha ? 'sha256' : '', recipe.md5 ? 'md5' : ''].filter(Boolean);
  const download = await downloadFile(url, path.join(paths.downloads(), recipe.fileName), {
    sha256: expectedSha,
    md5: recipe.md5,
    bytes: recipe.bytes,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });

  await fsp.mkdir(datasetDir, { recursive: true });
  const tmp = await fsp.mkdtemp(path.join(datasetDir, '.fetch-'));
  try {
    let archive = download.file;
    let kind: ArchiveKind = recipe.archive;
    if (recipe.inner) {
      const inner = recipe.inner;
      const n = await extractArchive(kind, archive, path.join(tmp, 'outer'), (p) => p === inner.path);
      if (n === 0) throw new Error(`${recipe.fileName} does not contain ${inner.path}; the recipe may be out of date`);
      archive = path.join(tmp, 'outer', inner.path);
      kind = inner.archive;
    }
    const unpacked = path.join(tmp, 'unpacked');
    opts.onProgress?.(0, 1, 'unpack');
    await extractArchive(kind, archive, unpacked, (p) => recipe.place(p) !== undefined);
    if (recipe.inner) await fsp.rm(path.join(tmp, 'outer'), { recursive: true, force: true });

    const members = (await walkFiles(unpacked)).sort();
    const staged = path.join(tmp, 'raw');
    const rows: Array<{ path: string; label: string; source: string }> = [];
    const groups: Record<string, number> = {};
    const taken = new Set<string>();
    for (let i = 0; i < members.length; i++) {
      const place = recipe.place(members[i]);
      if (!place) continue;
      const rel = `${place.group}/${place.file}`;
      if (taken.has(rel)) throw new Error(`recipe ${recipe.name} maps two archive files to ${rel}`);
      taken.add(rel);
      await fsp.mkdir(path.join(staged, place.group), { recursive: true });
      await fsp.rename(path.join(unpacked, members[i]), path.join(staged, rel));
      rows.push({ path: rel, label: place.group, source: place.source });
      groups[place.group] = (groups[place.group] ?? 0) + 1;
      opts.onProgress?.(i + 1, members.length, 'unpack');
    }
    if (rows.length === 0) throw new Error(`no files in ${recipe.fileName} matched recipe ${recipe.name}`);
    await writeFileAtomic(path.join(staged, 'manifest.csv'), stringify(rows, { header: true, columns: ['path', 'label', 'source'] }));

    const previousRaw = path.join(tmp, 'previous-raw');
    const hadRaw = await exists(rawDir);
    if (hadRaw) await fsp.rename(rawDir, previousRaw);
    try {
      await fsp.rename(staged, rawDir);
    } catch (err) {
      if (hadRaw) await fsp.rename(previousRaw, rawDir); // put the earlier data set back
      throw err;
    }
    const record: FetchRecord = {
      recipe: recipe.name,
      url,
      archive: recipe.fileName,
      bytes: download.bytes,
      sha256: download.sha256,
      md5: download.md5,
      verifiedWith,
      fetchedAt: new Date().toISOString(),
      groups,
      files: rows.length,
    };
    await writeJsonAtomic(infoFile, record);
    if (opts.keepArchive === false) await fsp.rm(download.file, { force: true });
    return { ...record, dir: rawDir, alreadyThere: false };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
