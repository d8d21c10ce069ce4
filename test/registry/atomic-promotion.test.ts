import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { promote, registerModel } from '../../src/registry/registry.js';
import { card, fakeModelDir } from './fixtures/fake-model.js';

describe('atomic promotion', () => {
  it('a reader in another process never sees an incomplete promoted model', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-promo-'));
    const root = path.join(tmp, 'registry');
    await fs.mkdir(root, { recursive: true });
    const reader = spawn(process.execPath, ['--import', 'tsx', 'test/registry/fixtures/promoted-reader.ts', root], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    while (!out.includes('ready')) {
      if (reader.exitCode !== null) throw new Error('reader exited early');
      await new Promise((r) => setTimeout(r, 20));
    }
    const versions = 25;
    for (let v = 1; v <= versions; v++) {
      const c = card(0, { f1: 0.8 + v * 0.005 });
      const src = await fakeModelDir(path.join(tmp, `src${v}`), v, 256 * 1024);
      await registerModel({ root, modelDir: src, runId: null, dataset: c.dataset, metrics: c.metrics, threshold: 0.5, thresholdStrategy: 'maximize-f1', imageSize: 64 });
      const d = await promote(v, { root });
      expect(d.action).toBe('promote');
      if (v === 12) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 100));
    await fs.writeFile(path.join(root, 'stop'), '');
    expect(await exited).toBe(0);
    const result = JSON.parse(out.split('\n').filter(Boolean).pop()!) as { reads: number; versions: number[]; problems: string[] };
    expect(result.problems).toEqual([]);
    expect(result.reads).toBeGreaterThan(50);
    expect(result.versions).toContain(versions); // it saw the last one
    expect(result.versions.length).toBeGreaterThan(1); // and promotions happened while it read
    await fs.rm(tmp, { recursive: true, force: true });
  }, 60_000);
});
