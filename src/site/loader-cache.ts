import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { paths, dataRoot } from '../storage/paths.js';
import { readJson, writeJsonAtomic } from '../storage/atomic.js';
import { siteRunIds } from './runs.js';
import { tfjsWasmDir } from './tfjs-wasm.js';

/**
 * Observable Framework reuses a data loader's cached output until the loader file itself changes, even when the
 * data it reads has changed. Before each build we fingerprint what every loader reads (data files, the data
 * directory's location, the library code) and delete the cached outputs whose fingerprint moved, so a report
 * never shows stale numbers.
 */

interface InputSpec {
  dir: string;
  /** Only files whose path relative to `dir` passes this are read by the loader. */
  match?: (rel: string) => boolean;
}

/** What the loader producing `target` (a path under the cache, '/' separators) reads; null for unknown outputs. */
export function loaderInputs(target: string): InputSpec[] | null {
  const runs: InputSpec = { dir: paths.runs() };
  const registry: InputSpec = { dir: paths.registry() };
  switch (target) {
    case 'data/overview.json':
      return [runs, registry];
    case 'data/runs.json':
      return [runs];
    case 'data/registry.json':
    case 'data/model.json':
    case 'data/model-weights.bin':
    case 'data/backbone-weights.bin':
      return [registry];
    case 'data/validation.json':
      return [{ dir: paths.datasets(), match: (rel) => /^[^/]+\/validation\.json$/.test(rel) }];
    case 'data/monitoring.json':
      return [{ dir: paths.monitoring() }];
    case 'data/samples.json':
      return [registry, { dir: paths.datasets(), match: (rel) => /^[^/]+\/(split|summary)\.json$/.test(rel) }];
    case 'data/tfjs-backend-wasm.wasm':
    case 'data/tfjs-backend-wasm-simd.wasm':
    case 'data/tfjs-backend-wasm-threaded-simd.wasm':
    case 'data/tf-backend-wasm.js':
      return [{ dir: tfjsWasmDir(), match: (rel) => rel.endsWith('.wasm') || rel === 'tf-backend-wasm.es2017.min.js' }];
  }
  // A run page reads its run, its trials (other runs) and files the run points at.
  if (/^runs\/[^/]+\.json$/.test(target)) return [runs];
  return null;
}

/** Files above this size are fingerprinted by size and modification time instead of content. */
const CONTENT_HASH_LIMIT = 4 * 1024 * 1024;

async function walk(dir: string, rel = ''): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Fingerprint of a set of files: names, sizes and content (or size and mtime for big files). */
export async function fingerprintFiles(specs: InputSpec[]): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const spec of specs) {
    hash.update(`dir ${path.resolve(spec.dir)}\n`);
    for (const rel of await walk(spec.dir)) {
      if (spec.match && !spec.match(rel)) continue;
      const file = path.join(spec.dir, rel);
      const st = await fs.stat(file).catch(() => null);
      if (!st) continue; // vanished while walking
      hash.update(`file ${rel} ${st.size}\n`);
      if (st.size > CONTENT_HASH_LIMIT) hash.update(`mtime ${st.mtimeMs}\n`);
      else hash.update(await fs.readFile(file).catch(() => Buffer.from('vanished')));
    }
  }
  return hash.digest('hex');
}

/**
 * The library code the loaders run: all of `src/`. Loaders reach most folders of it through `site/` (monitoring,
 * data, serve, ...), and a hand-kept list of folders goes stale as imports change, so every module counts; the
 * price is a loader re-run after an unrelated change, never a stale page.
 */
export function loaderCodeDirs(projectRoot: string): string[] {
  return [path.join(projectRoot, 'src')];
}

export interface InvalidateOptions {
  /** Source root of the site (holds `.observablehq/cache`). */
  siteRoot: string;
  /** Folders of code the loaders run (their changes invalidate every output): `loaderCodeDirs(projectRoot)`. */
  codeDirs: string[];
}

export interface InvalidateResult {
  cleared: string[];
  kept: string[];
}

async function cachedOutputs(cacheDir: string): Promise<string[]> {
  // Framework's own temporary and error files end in .<pid> or .<pid>.err: leave them alone.
  return (await walk(cacheDir)).filter((f) => !/\.\d+(\.err)?$/.test(f) && !f.startsWith('_'));
}

/** Delete cached loader outputs whose inputs changed since they were made; record the new fingerprints. */
export async function invalidateLoaderCache(opts: InvalidateOptions): Promise<InvalidateResult> {
  const cacheDir = path.join(opts.siteRoot, '.observablehq', 'cache');
  // Inside the (git-ignored) cache folder; names starting with _ there are not loader outputs.
  const stateFile = path.join(cacheDir, '_loader-inputs.json');
  const previous = await readJson<Record<string, string>>(stateFile).catch((): Record<string, string> => ({}));
  const code = await fingerprintFiles(opts.codeDirs.map((dir) => ({ dir, match: (rel: string) => /\.(ts|js|mjs|cjs|cts|json)$/.test(rel) })));
  const env = `${dataRoot()}\n${code}\n`;

  const expected = [
    'data/overview.json', 'data/runs.json', 'data/registry.json', 'data/model.json', 'data/model-weights.bin', 'data/backbone-weights.bin',
    'data/validation.json', 'data/monitoring.json', 'data/samples.json', 'data/tfjs-backend-wasm.wasm', 'data/tfjs-backend-wasm-simd.wasm',
    'data/tfjs-backend-wasm-threaded-simd.wasm', 'data/tf-backend-wasm.js',
    ...(await siteRunIds()).map((id) => `runs/${id}.json`),
  ];
  const byInputs = new Map<string, string>(); // fingerprints shared by outputs with the same inputs
  const fingerprint = async (target: string): Promise<string | null> => {
    const specs = loaderInputs(target);
    if (!specs) return null;
    const key = JSON.stringify(specs.map((s) => [s.dir, String(s.match ?? '')]));
    let fp = byInputs.get(key);
    if (!fp) byInputs.set(key, (fp = await fingerprintFiles(specs)));
    return crypto.createHash('sha256').update(env).update(target).update(fp).digest('hex');
  };

  const next: Record<string, string> = {};
  for (const target of expected) next[target] = (await fingerprint(target))!;
  const result: InvalidateResult = { cleared: [], kept: [] };
  for (const target of await cachedOutputs(cacheDir)) {
    const fp = next[target] ?? (await fingerprint(target));
    if (fp && previous[target] === fp) {
      result.kept.push(target);
      continue;
    }
    await fs.rm(path.join(cacheDir, target), { force: true });
    result.cleared.push(target);
  }
  await writeJsonAtomic(stateFile, next);
  return result;
}
