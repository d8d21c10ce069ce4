import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/data/sources/index.js';
import { metricsBySource, NoSourcesError, sourceTable } from '../../src/evaluation/by-source.js';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { evaluateLabelledSource } from '../../src/pipelines/evaluate-folder.js';
import { runSourcesPipeline } from '../../src/pipelines/sources-pipeline.js';
import { getRun, readArtifactJson } from '../../src/tracking/runs.js';
import { heldOutTable } from '../../src/cli/commands/pipeline.js';
import { runPageData } from '../../src/site/runs.js';

describe('per-source metrics', () => {
  it('gives precision, recall and the share of each group called a cat for every source', () => {
    const rows = [
      { source: 'b', group: 'cat', label: 1 as const, prob: 0.9 },
      { source: 'b', group: 'cat', label: 1 as const, prob: 0.2 },
      { source: 'b', group: 'dog', label: 0 as const, prob: 0.7 },
      { source: 'a', group: 'dog', label: 0 as const, prob: 0.1 },
      { source: 'a', group: 'dog', label: 0 as const, prob: 0.6 },
      { source: 'a', group: 'misc', label: 0 as const, prob: 0.55 },
    ];
    const [a, b] = metricsBySource(rows, 0.5);
    expect(a.source).toBe('a');
    expect(a.n).toBe(3);
    expect(a.recall).toBeNull(); // no cats in a
    expect(a.precision).toBe(0);
    expect(a.groups).toEqual({ dog: { n: 2, calledCat: 1, rate: 0.5 }, misc: { n: 1, calledCat: 1, rate: 1 } });
    expect(b.precision).toBe(0.5);
    expect(b.recall).toBe(0.5);
    expect(b.groups.cat).toEqual({ n: 2, calledCat: 1, rate: 0.5 });
    const table = sourceTable([a, b]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toMatch(/cat called cat/);
    expect(table).toMatch(/0\.500 of 2/);
  });

  it('says clearly when the data names no sources', () => {
    const rows = [{ source: 'photos', group: 'cat', label: 1 as const, prob: 0.9 }];
    expect(() => metricsBySource(rows, 0.5)).toThrow(NoSourcesError);
    expect(() => metricsBySource(rows, 0.5)).toThrow(/manifest\.csv with a "source" column/);
  });
});

/** The synthetic set written out as a `<group>/<file>` folder; with a manifest, image i comes from source `s{i % 2}`. */
async function syntheticFolder(dir: string, spec: string, manifest: boolean): Promise<void> {
  const source = await openSource(spec);
  const lines = ['path,label,source'];
  const items = await source.list();
  for (const [i, item] of items.entries()) {
    await fs.mkdir(path.join(dir, item.group), { recursive: true });
    await fs.writeFile(path.join(dir, item.path), await source.read(item));
    lines.push(`${item.path},${item.group},s${i % 2}`);
  }
  if (manifest) await fs.writeFile(path.join(dir, 'manifest.csv'), lines.join('\n') + '\n');
}

// The plumbing on drawn images and a small CNN (the backbone's own numbers come from runs on cats-v1).
describe('source-held-out evaluation and evaluate --by-source', () => {
  let root: string;
  let named: string;
  let unnamed: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-sources-'));
    process.env.AREYOUACAT_HOME = path.join(root, 'home');
    named = path.join(root, 'named');
    unnamed = path.join(root, 'unnamed');
    await syntheticFolder(named, 'synthetic:seed=3,n=96', true);
    await syntheticFolder(unnamed, 'synthetic:seed=4,n=16', false);
  }, 120_000);
  const small = { backbone: null, size: 32, epochs: 2, hyperparameters: { filters: [8, 16, 16] as number[], denseUnits: 16 }, log: () => {} };

  it('trains one model per source with all its photos left out and scores it on them, as a tracked run', async () => {
    const r = await runSourcesPipeline({ ...small, data: named });
    expect(r.folds.map((f) => f.source)).toEqual(['s0', 's1']);
    for (const f of r.folds) {
      // half of the 96 photos come from each source; none of the held-out half is trained or validated on
      expect(f.heldOut.n).toBe(48);
      expect(f.trainN + f.valN + f.others.n).toBe(48);
      expect(Object.values(f.heldOut.groups).reduce((a, g) => a + g.n, 0)).toBe(48);
      expect(f.threshold).toBeGreaterThanOrEqual(0);
    }
    const run = await getRun(r.runId);
    expect(run?.effectiveStatus).toBe('finished');
    expect(run?.tags.kind).toBe('source-held-out');
    expect(run?.artifacts.map((a) => a.name)).toContain('sources.json');
    const saved = await readArtifactJson<{ folds: unknown[] }>(r.runId, 'sources.json');
    expect(saved.folds).toHaveLength(2);
    expect(heldOutTable(r.folds).split('\n')).toHaveLength(3);
    const page = await runPageData(r.runId);
    expect(page.sources?.folds.map((f) => f.source)).toEqual(['s0', 's1']);
    expect(page.sources?.summary).toEqual(r.summary);
    await expect(runSourcesPipeline({ ...small, data: unnamed })).rejects.toThrow(/names 1 source/);
    await expect(runSourcesPipeline({ ...small, data: named, only: ['nope'] })).rejects.toThrow(/unknown source "nope"/);
  }, 600_000);

  it('evaluates the promoted model per source, and says so when the data names none', async () => {
    const d = await runDeployPipeline({ ...small, data: named, allowChecks: ['property-drift'], policy: { minPrecision: 0, minRecall: 0 } });
    expect(d.decision?.action).toBe('promote');
    const ev = await evaluateLabelledSource(named, { bySource: true });
    expect(ev.bySource?.map((s) => s.source)).toEqual(['s0', 's1']);
    expect(ev.bySource?.reduce((a, s) => a + s.n, 0)).toBe(ev.n);
    const plain = await evaluateLabelledSource(named);
    expect(plain.bySource).toBeUndefined();
    await expect(evaluateLabelledSource(unnamed, { bySource: true })).rejects.toThrow(/names one source only/);
  }, 600_000);
});

const CATS_V1 = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
const catsV1 = existsSync(path.join(CATS_V1, 'manifest.csv'));
if (!catsV1) console.warn(`cats-v1 source-held-out test skipped: ${CATS_V1} not found (set AREYOUACAT_CATS_V1)`);

// A handful of real photos per (group, source) through the default backbone model: every cats-v1 source gets a fold.
describe.skipIf(!catsV1)('source-held-out evaluation on a cats-v1 subset', () => {
  it('holds out each cats-v1 source in turn on the default backbone model', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-sources-cats-'));
    process.env.AREYOUACAT_HOME = path.join(root, 'home');
    const lines = (await fs.readFile(path.join(CATS_V1, 'manifest.csv'), 'utf8')).trim().split('\n');
    const taken = new Map<string, number>();
    const kept = [lines[0]];
    for (const line of lines.slice(1)) {
      const [rel, group, source] = line.split(',');
      const key = `${group}:${source}`;
      if ((taken.get(key) ?? 0) >= 12) continue;
      taken.set(key, (taken.get(key) ?? 0) + 1);
      await fs.mkdir(path.join(root, 'data', group), { recursive: true });
      await fs.copyFile(path.join(CATS_V1, rel), path.join(root, 'data', rel));
      kept.push(line);
    }
    await fs.writeFile(path.join(root, 'data', 'manifest.csv'), kept.join('\n') + '\n');
    const r = await runSourcesPipeline({ data: path.join(root, 'data'), epochs: 3, log: () => {} });
    const sources = [...new Set(kept.slice(1).map((l) => l.split(',')[2]))].sort();
    expect(r.folds.map((f) => f.source)).toEqual(sources);
    for (const f of r.folds) {
      const groups = [...taken.keys()].filter((k) => k.endsWith(`:${f.source}`)).map((k) => k.split(':')[0]).sort();
      expect(Object.keys(f.heldOut.groups).sort()).toEqual(groups);
      expect(f.heldOut.n).toBe(12 * groups.length);
    }
    expect(r.summary.minCatRecall).not.toBeNull();
    expect(r.summary.maxDogCalledCat).not.toBeNull();
    await fs.rm(root, { recursive: true, force: true });
  }, 900_000);
});
