import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const fixture = path.resolve('test/notebook/fixtures/tslab-watch.cjs');
const preload = path.resolve('src/notebook/kernel-preload.cjs');

function runCells(nodeOptions?: string) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  return spawnSync(process.execPath, [fixture, process.cwd()], { env, encoding: 'utf8', timeout: 60_000 });
}

describe('notebook kernel preload', () => {
  it('without it, a package installed while a notebook is open kills the tslab kernel (the case it exists for)', () => {
    const r = runCells();
    // If this stops failing, tslab fixed its one-slot timer and src/notebook/kernel-preload.cjs can go.
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Unexpected pending rebuildTimer');
  }, 60_000);

  it('with it, the next cell compiles, and child processes do not inherit the preload', () => {
    const r = runCells(`--require "${preload}"`);
    expect(r.stderr).not.toContain('rebuildTimer');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cell 2: ok');
    expect(r.stdout).toMatch(/^NODE_OPTIONS=$/m);
  }, 60_000);
});
