import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getVersion, listVersions, promote, promotedPointerPath, readDecisions, readPromoted, readPromotedPointer, registerFromRun, registerModel, rollback, watchPromoted } from '../../src/registry/index.js';
import { evaluate } from '../../src/evaluation/report.js';
import { startRun } from '../../src/tracking/runs.js';
import { card, fakeModelDir } from './fixtures/fake-model.js';

let tmp: string;
let root: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-registry-'));
  root = path.join(tmp, 'registry');
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function register(marker: number, metrics: Parameters<typeof card>[1], hash = 'hash-a') {
  const c = card(0, metrics, hash);
  return registerModel({ root, modelDir: await fakeModelDir(path.join(tmp, `src-${marker}-${Math.random()}`), marker), runId: null, dataset: c.dataset, metrics: c.metrics, threshold: 0.5, thresholdStrategy: 'maximize-f1', imageSize: 64 });
}

describe('registry', () => {
  it('owns the promoted pointer: its path, and a reader for it as stored', async () => {
    expect(promotedPointerPath({ root })).toBe(path.join(root, 'promoted.json'));
    expect(readPromotedPointer({ root })).toBeNull();
    await register(1, { precision: 0.9, recall: 0.9 });
    const d = await promote(1, { root });
    expect(readPromotedPointer({ root })).toMatchObject({ version: 1, dir: 'versions/v1', decisionId: d.id, promotedAt: d.time, card: { version: 1 } });
    await fs.writeFile(promotedPointerPath({ root }), '{"version": 1');
    expect(() => readPromotedPointer({ root })).toThrow(/promoted\.json is not valid JSON/);
    await expect(readPromoted({ root })).rejects.toThrow(/promoted\.json is not valid JSON/);
  });

  it('registers numbered versions with a card and the model files', async () => {
    const a = await register(1, {});
    const b = await register(2, { f1: 0.95 });
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(b.dir).toBe(path.join(root, 'versions', 'v2'));
    expect((await fs.readdir(b.dir)).sort()).toEqual(['MODEL_CARD.md', 'card.json', 'group1-shard1of1.bin', 'model.json']);
    expect((await getVersion('v2', { root })).card).toMatchObject({ version: 2, metrics: { f1: 0.95 }, files: ['group1-shard1of1.bin', 'model.json'] });
    expect((await listVersions({ root })).versions.map((v) => v.version)).toEqual([1, 2]);
    expect(await fs.readdir(path.join(root, 'versions'))).toEqual(['v1', 'v2']); // no temp folders left
    await expect(getVersion(7, { root })).rejects.toThrow(/v7 does not exist/);
    await expect(getVersion('latest', { root })).rejects.toThrow(/not a model version/);
  });

  it('refuses a folder that is not a complete tfjs model', async () => {
    const dir = await fakeModelDir(path.join(tmp, 'broken'), 1);
    await fs.rm(path.join(dir, 'group1-shard1of1.bin'));
    const c = card(0, {});
    const opts = { root, modelDir: dir, runId: null, dataset: c.dataset, metrics: c.metrics, threshold: 0.5, thresholdStrategy: 'x', imageSize: 64 };
    await expect(registerModel(opts)).rejects.toThrow(/weight file group1-shard1of1.bin named in model.json is missing/);
    await expect(registerModel({ ...opts, modelDir: tmp })).rejects.toThrow(/not a tfjs model directory/);
    expect((await listVersions({ root })).versions).toEqual([]);
  });

  it('promotes through the gate, records every decision, and rolls back', async () => {
    expect(await readPromoted({ root })).toBeNull();
    await register(1, { f1: 0.9 });
    await register(2, { f1: 0.8 }); // worse
    await register(3, { f1: 0.93 }); // better
    await register(4, { recall: 0.5 }); // below minimum

    const d1 = await promote(1, { root });
    expect(d1).toMatchObject({ action: 'promote', candidate: 1, previous: null, promoted: 1 });
    expect((await readPromoted({ root }))?.version).toBe(1);

    const d2 = await promote('v2', { root });
    expect(d2).toMatchObject({ action: 'reject', candidate: 2, previous: 1, promoted: 1 });
    expect(d2.reasons[0]).toMatch(/worse/);
    expect((await readPromoted({ root }))?.version).toBe(1);

    expect(await promote(3, { root })).toMatchObject({ action: 'promote', promoted: 3 });
    const promoted = (await readPromoted({ root }))!;
    expect(promoted).toMatchObject({ version: 3, dir: path.join(root, 'versions', 'v3'), card: { version: 3 } });

    expect(await promote(4, { root })).toMatchObject({ action: 'reject', promoted: 3 });
    await expect(promote(4, { root, force: true })).rejects.toThrow(/needs a reason/);
    const forced = await promote(4, { root, force: true, reason: 'hotfix for a demo' });
    expect(forced).toMatchObject({ action: 'force-promote', promoted: 4, userReason: 'hotfix for a demo' });
    expect(forced.reasons[0]).toBe('forced: hotfix for a demo');
    expect(forced.reasons[1]).toMatch(/gate said no: v4 recall 0.5000 is below minimum/);
    await expect(promote(4, { root })).rejects.toThrow(/already the promoted model/);

    await expect(rollback(1, { root, reason: '' })).rejects.toThrow(/needs a reason/);
    await expect(rollback(4, { root, reason: 'x' })).rejects.toThrow(/earlier version/);
    const rb = await rollback(1, { root, reason: 'v4 misclassifies dogs' });
    expect(rb).toMatchObject({ action: 'rollback', previous: 4, promoted: 1 });
    expect((await readPromoted({ root }))?.version).toBe(1);

    const log = await readDecisions({ root });
    expect(log.map((d) => `${d.action}:v${d.candidate}`)).toEqual(['promote:v1', 'reject:v2', 'promote:v3', 'reject:v4', 'force-promote:v4', 'rollback:v1']);
    expect(new Set(log.map((d) => d.id)).size).toBe(log.length);
    const pointer = JSON.parse(await fs.readFile(path.join(root, 'promoted.json'), 'utf8'));
    expect(pointer.decisionId).toBe(rb.id);
    expect(pointer.dir).toBe('versions/v1');
    await expect(fs.access(path.join(root, '.lock'))).rejects.toThrow(); // lock released

    // A damaged pointer is a clear error, not a half-read model.
    await fs.writeFile(path.join(root, 'promoted.json'), '{"version": 2}');
    await expect(readPromoted({ root })).rejects.toThrow(/does not describe a promoted model/);
    await fs.writeFile(path.join(root, 'promoted.json'), '{"vers');
    await expect(readPromoted({ root })).rejects.toThrow(/promoted.json is not valid JSON/);
  });

  it('rejects a candidate against a champion measured on another test set', async () => {
    await register(1, { f1: 0.5 }, 'hash-a');
    await register(2, { f1: 0.99 }, 'hash-b');
    await promote(1, { root, policy: { minPrecision: 0, minRecall: 0 } });
    const d = await promote(2, { root });
    expect(d.action).toBe('reject');
    expect(d.reasons[0]).toMatch(/not comparable/);
    expect((await promote(2, { root, policy: { onDifferentTestSet: 'ignore-champion' } })).action).toBe('promote');
  });

  it('serialises concurrent promotions', async () => {
    for (let i = 1; i <= 6; i++) await register(i, { f1: 0.9 });
    const ds = await Promise.all([1, 2, 3, 4, 5, 6].map((v) => promote(v, { root })));
    // Each decision saw the previous one's result: the chain of previous -> promoted is unbroken.
    const log = await readDecisions({ root });
    expect(log).toHaveLength(6);
    for (let i = 1; i < log.length; i++) expect(log[i].previous).toBe(log[i - 1].promoted);
    expect(ds.every((d) => d.action === 'promote')).toBe(true);
  });

  it('registers the model of a finished tracking run', async () => {
    const runsRoot = path.join(tmp, 'runs');
    const run = await startRun({ name: 'train', root: runsRoot, params: { imageSize: 64 }, dataset: { name: 'cats-v1', manifestHash: 'mh-1' } });
    await run.copyArtifact('model', await fakeModelDir(path.join(tmp, 'm'), 9));
    const val = { labels: [1, 1, 0, 0], probs: [0.9, 0.7, 0.4, 0.1] };
    await run.writeArtifact('evaluation.json', await evaluate({ val, test: val }));
    await expect(registerFromRun(run.id, { root, runsRoot })).rejects.toThrow(/is running; only finished runs/);
    await run.finish();
    const v = await registerFromRun(run.id, { root, runsRoot });
    expect(v.card).toMatchObject({ version: 1, runId: run.id, dataset: { name: 'cats-v1', manifestHash: 'mh-1' }, imageSize: 64, thresholdStrategy: 'maximize-f1' });
    expect(v.card.metrics).toMatchObject({ precision: 1, recall: 1, f1: 1, rocAuc: 1, prAuc: 1 });
    expect(v.card.threshold).toBeCloseTo(0.55, 12);
  });

  it('notifies watchers when the promoted model changes', async () => {
    await register(1, {});
    const seen: Array<number | null> = [];
    const stop = watchPromoted((m) => seen.push(m?.version ?? null), { root, intervalMs: 20 });
    try {
      await promote(1, { root });
      const t0 = Date.now();
      while (!seen.includes(1) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toContain(1);
    } finally {
      stop();
    }
  });
});
