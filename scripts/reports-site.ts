// Build or preview the report site with fresh data: stale data loader outputs are cleared first.
//   tsx scripts/reports-site.ts build [observable build options]
//   tsx scripts/reports-site.ts dev   [observable preview options]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { invalidateLoaderCache, loaderCodeDirs } from '../src/site/loader-cache.js';
import { withLock } from '../src/registry/lock.js';
import { siteBuilderMissing } from '../src/site/builder.js';

const [mode, ...rest] = process.argv.slice(2);
if (mode !== 'build' && mode !== 'dev') {
  process.stderr.write('usage: reports-site.ts build|dev [options for observable]\n');
  process.exit(2);
}
const root = process.cwd();
const missing = siteBuilderMissing(root);
if (missing) {
  process.stderr.write(`reports: ${missing}\n`);
  process.exit(1);
}
// Framework keeps one loader cache per site folder: two builds at once (two data folders, or a build during a
// preview's refresh) would read each other's loader outputs. A build holds the site's lock from the cache check to
// the end of the build; a second one waits (bounded) for it.
const BUILD_LOCK_WAIT_MS = 30 * 60_000;

function runObservable(): Promise<number> {
  // Data loaders written in TypeScript are run with `tsx` found on PATH.
  const bin = path.join(root, 'node_modules', '.bin');
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(path.join(bin, 'observable'), [mode === 'build' ? 'build' : 'preview', ...rest], { stdio: 'inherit', env });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function refreshCache(): Promise<void> {
  const { cleared } = await invalidateLoaderCache({
    siteRoot: path.join(root, 'reports'),
    // The library code the loaders run: a change there may change what they print.
    codeDirs: loaderCodeDirs(root),
  });
  if (cleared.length) process.stdout.write(`reports: data changed, reloading ${cleared.join(', ')}\n`);
}

const lockDir = path.join(root, 'reports', '.observablehq');
if (mode === 'build') {
  process.exitCode = await withLock(lockDir, async () => {
    await refreshCache();
    return runObservable();
  }, BUILD_LOCK_WAIT_MS);
} else {
  await withLock(lockDir, refreshCache, BUILD_LOCK_WAIT_MS);
  process.stdout.write('reports: preview reloads a page when its loader changes; rerun this after new runs to refresh data\n');
  process.exitCode = await runObservable();
}
