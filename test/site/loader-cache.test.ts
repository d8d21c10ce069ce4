import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invalidateLoaderCache, loaderCodeDirs, loaderInputs } from '../../src/site/loader-cache.js';
import { tfjsWasmDir } from '../../src/site/tfjs-wasm.js';
import { startRun } from '../../src/tracking/runs.js';

/** The project's own modules a file reaches through relative static imports (the loaders' import graph). */
async function importGraph(entry: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = await fs.readFile(entry, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(entry), m[1]);
    const file = [target.replace(/\.js$/, '.ts'), target].find((f) => /\.(ts|js|cjs)$/.test(f));
    if (file && (await fs.access(file).then(() => true, () => false))) await importGraph(file, seen);
  }
  return seen;
}

describe('data loader cache invalidation', () => {
  let tmp: string;
  let siteRoot: string;
  let codeDir: string;
  const saved = process.env.AREYOUACAT_HOME;

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-loader-cache-'));
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home');
    siteRoot = path.join(tmp, 'reports');
    codeDir = path.join(tmp, 'code');
    await fs.mkdir(codeDir, { recursive: true });
    await fs.writeFile(path.join(codeDir, 'a.ts'), 'export const a = 1;\n');
  });

  afterEach(async () => {
    if (saved === undefined) delete process.env.AREYOUACAT_HOME;
    else process.env.AREYOUACAT_HOME = saved;
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const cache = (rel: string) => path.join(siteRoot, '.observablehq', 'cache', rel);
  async function put(rel: string) {
    await fs.mkdir(path.dirname(cache(rel)), { recursive: true });
    await fs.writeFile(cache(rel), 'cached');
  }
  const has = (rel: string) => fs.access(cache(rel)).then(() => true, () => false);
  const invalidate = () => invalidateLoaderCache({ siteRoot, codeDirs: [codeDir] });

  it('keeps outputs whose inputs are unchanged and clears exactly those whose inputs changed', async () => {
    const run = await startRun({ name: 'r1' });
    const targets = ['data/runs.json', 'data/overview.json', 'data/registry.json', 'data/validation.json', `runs/${run.id}.json`];
    await invalidate(); // records fingerprints; nothing cached yet
    for (const t of targets) await put(t);
    await put('_npm/vega@6/index.js'); // Framework's own cache: never touched
    await put('data/runs.json.4242'); // a loader running right now
    await put('data/something-else.json'); // unknown output: cleared

    let result = await invalidate();
    expect(result.cleared).toEqual(['data/something-else.json']);
    expect(result.kept.sort()).toEqual([...targets].sort());

    // A run changes: everything that reads runs goes, the registry and validation outputs stay.
    await run.logMetrics({ test_f1: 0.5 });
    result = await invalidate();
    expect(result.cleared.sort()).toEqual(['data/overview.json', 'data/runs.json', `runs/${run.id}.json`].sort());
    expect(await has('data/registry.json')).toBe(true);
    expect(await has('data/validation.json')).toBe(true);
    expect(await has('_npm/vega@6/index.js')).toBe(true);
    expect(await has('data/runs.json.4242')).toBe(true);

    // A new validation report invalidates the validation page only.
    for (const t of ['data/runs.json', 'data/overview.json', `runs/${run.id}.json`]) await put(t);
    await fs.mkdir(path.join(tmp, 'home', 'datasets', 'd1'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'home', 'datasets', 'd1', 'validation.json'), '{}');
    result = await invalidate();
    expect(result.cleared).toEqual(['data/validation.json']);
    // ...but other files in a data set folder do not.
    await put('data/validation.json');
    await fs.writeFile(path.join(tmp, 'home', 'datasets', 'd1', 'manifest.csv'), 'x');
    expect((await invalidate()).cleared).toEqual([]);

    // Library code changes: every output may print something else.
    await fs.writeFile(path.join(codeDir, 'a.ts'), 'export const a = 2;\n');
    result = await invalidate();
    expect(result.cleared.sort()).toEqual(targets.sort());
  });

  it('another data directory means other outputs', async () => {
    await invalidate();
    await put('data/registry.json');
    expect((await invalidate()).cleared).toEqual([]);
    process.env.AREYOUACAT_HOME = path.join(tmp, 'other-home');
    expect((await invalidate()).cleared).toEqual(['data/registry.json']);
  });

  it('knows what each loader reads', () => {
    expect(loaderInputs('data/model-weights.bin')?.map((s) => path.basename(s.dir))).toEqual(['registry']);
    expect(loaderInputs('runs/20261126T230501123Z-3fa9c1.json')?.map((s) => path.basename(s.dir))).toEqual(['runs']);
    expect(loaderInputs('data/unknown.csv')).toBeNull();
    // The predict page's samples come from the promoted model's test split; the wasm files from the installed package.
    expect(loaderInputs('data/samples.json')?.map((s) => path.basename(s.dir))).toEqual(['registry', 'datasets']);
    for (const f of ['data/tfjs-backend-wasm.wasm', 'data/tfjs-backend-wasm-simd.wasm', 'data/tfjs-backend-wasm-threaded-simd.wasm', 'data/tf-backend-wasm.js']) {
      expect(loaderInputs(f)?.map((s) => s.dir), f).toEqual([tfjsWasmDir()]);
    }
  });

  it('counts every library module the loaders import: a change in src/monitoring refreshes the monitoring page', async () => {
    const project = path.join(tmp, 'project');
    await fs.cp(path.resolve('src'), path.join(project, 'src'), { recursive: true });
    const codeDirs = loaderCodeDirs(project);
    const within = (file: string) => codeDirs.some((d) => !path.relative(d, file).startsWith('..'));

    // Every module the real loaders reach is fingerprinted, whatever folder it lives in.
    const reached = new Set<string>();
    for (const loader of await fs.readdir(path.resolve('reports', 'data'))) {
      if (loader.endsWith('.ts')) for (const f of await importGraph(path.resolve('reports', 'data', loader))) reached.add(f);
    }
    const library = [...reached].filter((f) => f.startsWith(path.resolve('src') + path.sep)).map((f) => path.join(project, path.relative(path.resolve(), f)));
    const folders = new Set(library.map((f) => path.relative(path.join(project, 'src'), f).split(path.sep)[0]));
    // (The old hand-kept list missed monitoring and data; serve is no longer reached since feedback left it.)
    for (const folder of ['site', 'monitoring', 'data', 'feedback']) expect([...folders]).toContain(folder);
    for (const f of library) expect(within(f), f).toBe(true);

    const invalidateCopy = () => invalidateLoaderCache({ siteRoot, codeDirs });
    await invalidateCopy();
    await put('data/monitoring.json');
    expect((await invalidateCopy()).cleared).toEqual([]);
    const monitoringModule = [...reached].find((f) => f.includes(`${path.sep}src${path.sep}monitoring${path.sep}`))!;
    const copy = path.join(project, path.relative(path.resolve(), monitoringModule));
    await fs.appendFile(copy, '\n// changed\n');
    expect((await invalidateCopy()).cleared).toContain('data/monitoring.json');
  });
});
