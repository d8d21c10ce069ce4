import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { artifactPath, artifactsDir, compareRuns, getRun, listRuns, newRunId, readArtifactJson, readEpochs, startRun, withRun } from '../../src/tracking/index.js';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-runs-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('run ids', () => {
  it('sort by start time', () => {
    const a = newRunId(new Date('2026-01-02T03:04:05.006Z'));
    const b = newRunId(new Date('2026-01-02T03:04:05.007Z'));
    const c = newRunId(new Date('2026-11-30T00:00:00.000Z'));
    expect(a).toMatch(/^20260102T030405006Z-[0-9a-f]{6}$/);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });
});

describe('a tracked run', () => {
  it('records params, epochs, metrics, timings, artifacts and git commit', async () => {
    const run = await startRun({ name: 'train', root, params: { lr: 0.001 }, dataset: { name: 'cats-v1', manifestHash: 'abc' }, backend: 'wasm' });
    expect((await getRun(run.id, { root }))?.effectiveStatus).toBe('running');
    await run.logParams({ epochs: 3, layers: [16, 32] });
    for (let e = 1; e <= 3; e++) await run.logEpoch(e, { loss: 1 / e, val_loss: NaN });
    await run.time('train', async () => undefined);
    await run.writeArtifact('evaluation.json', { ok: true });
    await run.writeArtifact('notes/readme.txt', 'hello');
    const modelSrc = path.join(root, '.model-src');
    await fs.mkdir(modelSrc);
    await fs.writeFile(path.join(modelSrc, 'model.json'), '{"x":1}');
    await fs.writeFile(path.join(modelSrc, 'weights.bin'), Buffer.alloc(100));
    await run.copyArtifact('model', modelSrc);
    await run.finish({ test_f1: 0.9, skipped: null });

    const got = (await getRun(run.id, { root }))!;
    expect(got).toMatchObject({
      status: 'finished',
      effectiveStatus: 'finished',
      name: 'train',
      params: { lr: 0.001, epochs: 3, layers: [16, 32] },
      metrics: { test_f1: 0.9 },
      dataset: { name: 'cats-v1', manifestHash: 'abc' },
      backend: 'wasm',
      error: null,
    });
    expect(got.timings.train).toBeGreaterThanOrEqual(0);
    expect(got.durationMs).toBeGreaterThanOrEqual(0);
    // Inside a git checkout (CI clones one) the commit is recorded; from an unpacked archive it is null.
    const inGit = await fs.stat('.git').then(() => true, () => false);
    if (inGit) expect(got.git.commit).toMatch(/^[0-9a-f]{40}$/);
    else expect(got.git.commit).toBeNull();
    expect(got.artifacts.map((a) => [a.name, a.kind, a.bytes])).toEqual([
      ['evaluation.json', 'file', expect.any(Number)],
      ['notes/readme.txt', 'file', 5],
      ['model', 'dir', 107],
    ]);
    expect(JSON.parse(await fs.readFile(path.join(got.dir, 'artifacts', 'evaluation.json'), 'utf8'))).toEqual({ ok: true });
    const epochs = await readEpochs(got);
    expect(epochs.map((e) => e.metrics)).toEqual([{ loss: 1 }, { loss: 0.5 }, { loss: 1 / 3 }]);
    // No temp files are left behind.
    expect((await fs.readdir(got.dir)).sort()).toEqual(['artifacts', 'epochs.jsonl', 'run.json']);
    expect((await fs.readdir(path.join(got.dir, 'artifacts'))).sort()).toEqual(['evaluation.json', 'model', 'notes']);
    await expect(run.logMetrics({ x: 1 })).rejects.toThrow(/already finished/);
  });

  it('records a null commit outside a git checkout, without failing', async () => {
    const run = await startRun({ name: 'nogit', root, cwd: os.tmpdir() });
    expect(run.record.git).toEqual({ commit: null, dirty: null });
    await run.finish();
  });

  it('refuses artifact names that leave the run', async () => {
    const run = await startRun({ name: 'x', root });
    await expect(run.writeArtifact('../escape.txt', 'x')).rejects.toThrow(/not a valid artifact name/);
    await expect(run.copyArtifact('model', path.join(root, 'nope'))).rejects.toThrow(/does not exist/);
    await run.finish();
  });
});

describe('withRun', () => {
  it('finishes on success and marks failed (and rethrows) on error', async () => {
    const value = await withRun({ name: 'ok', root }, async (run) => {
      await run.logMetrics({ a: 1 });
      return 42;
    });
    expect(value).toBe(42);
    await expect(
      withRun({ name: 'boom', root }, async (run) => {
        await run.logEpoch(1, { loss: 1 });
        throw new Error('out of memory');
      }),
    ).rejects.toThrow('out of memory');
    const { runs } = await listRuns({ root });
    expect(runs.map((r) => [r.name, r.status])).toEqual([
      ['ok', 'finished'],
      ['boom', 'failed'],
    ]);
    expect(runs[1].error?.message).toBe('out of memory');
  });
});

describe('crashed and broken runs', () => {
  it('shows a run whose process was killed as crashed, never finished', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/tracking/fixtures/crash-run.ts', root]).catch(
      (err: { stdout: string; signal: string }) => {
        expect(err.signal).toBe('SIGKILL');
        return err;
      },
    );
    const id = stdout.trim();
    const run = (await getRun(id, { root }))!;
    expect(run.status).toBe('running'); // what the file says
    expect(run.effectiveStatus).toBe('crashed'); // what readers show
    expect((await readEpochs(run)).map((e) => e.epoch)).toEqual([1]);
  }, 30_000);

  it('lists good runs and reports broken run directories instead of crashing', async () => {
    const good = await startRun({ name: 'good', root });
    await good.finish();
    await fs.mkdir(path.join(root, 'garbage'));
    await fs.writeFile(path.join(root, 'garbage', 'run.json'), '{"id": "garbage", "sta');
    await fs.mkdir(path.join(root, 'empty'));
    await fs.mkdir(path.join(root, 'wrong'));
    await fs.writeFile(path.join(root, 'wrong', 'run.json'), JSON.stringify({ id: 'wrong', status: 'done' }));
    await fs.writeFile(path.join(root, 'stray-file.txt'), 'not a run');
    const { runs, broken } = await listRuns({ root });
    expect(runs.map((r) => r.id)).toEqual([good.id]);
    expect(Object.fromEntries(broken.map((b) => [b.id, b.problem]))).toEqual({
      empty: 'run.json is missing',
      garbage: expect.stringMatching(/not valid JSON/),
      wrong: expect.stringMatching(/unknown status "done"/),
    });
    await expect(getRun('garbage', { root })).rejects.toThrow(/run garbage is damaged: run.json is not valid JSON/);
    expect(await getRun('nothere', { root })).toBeNull();
    await expect(getRun('../etc', { root })).rejects.toThrow(/not a valid run id/);
  });

  it('skips a torn last epoch line', async () => {
    const run = await startRun({ name: 'torn', root });
    await run.logEpoch(1, { loss: 0.5 });
    await fs.appendFile(path.join(run.dir, 'epochs.jsonl'), '{"epoch": 2, "me');
    expect((await readEpochs(run.id, { root })).map((e) => e.epoch)).toEqual([1]);
  });

  it('knows where its artifacts live, by run or by id, and reads JSON ones', async () => {
    const run = await startRun({ name: 'layout', root });
    await run.writeArtifact('evaluation.json', { threshold: 0.5 });
    const got = (await getRun(run.id, { root }))!;
    const expected = path.join(root, run.id, 'artifacts', 'evaluation.json');
    expect(run.artifactPath('evaluation.json')).toBe(expected);
    expect(artifactPath(got, 'evaluation.json')).toBe(expected);
    expect(artifactPath(run.id, 'evaluation.json', { root })).toBe(expected);
    expect(artifactsDir(run.id, { root })).toBe(run.artifactsDir);
    expect(await readArtifactJson(run.id, 'evaluation.json', { root })).toEqual({ threshold: 0.5 });
    await expect(readArtifactJson(run.id, 'missing.json', { root })).rejects.toThrow(/cannot read .*missing\.json/);
    expect(() => artifactPath(run.id, '../run.json', { root })).toThrow(/not a valid artifact name/);
    expect(() => artifactPath('../elsewhere', 'x.json', { root })).toThrow(/not a valid run id/);
  });

  it('a reader never sees a half-written run.json while a run logs fast', async () => {
    const run = await startRun({ name: 'busy', root });
    const file = path.join(run.dir, 'run.json');
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const rec = JSON.parse(await fs.readFile(file, 'utf8')); // throws on a torn file
        expect(rec.id).toBe(run.id);
        reads++;
      }
    })();
    const writes = Array.from({ length: 60 }, (_, i) => run.logMetrics({ [`m${i % 10}`]: i }));
    await Promise.all(writes);
    await run.finish();
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await getRun(run.id, { root }))!.metrics.m9).toBe(59);
  });
});

describe('compareRuns', () => {
  it('lines up params and metrics and flags differences', async () => {
    const a = await startRun({ name: 'a', root, params: { lr: 0.01, epochs: 5 }, dataset: { name: 'd', manifestHash: 'h1' } });
    await a.finish({ f1: 0.8 });
    const b = await startRun({ name: 'b', root, params: { lr: 0.001, epochs: 5, dropout: 0.2 }, dataset: { name: 'd', manifestHash: 'h1' } });
    await b.finish({ f1: 0.85, auc: 0.9 });
    const c = await compareRuns([a.id, b.id.slice(0, 24)], { root });
    expect(c.sameData).toBe(true);
    expect(c.params).toEqual([
      { key: 'dropout', values: [null, 0.2], differs: true },
      { key: 'epochs', values: [5, 5], differs: false },
      { key: 'lr', values: [0.01, 0.001], differs: true },
    ]);
    expect(c.metrics.find((m) => m.key === 'f1')?.values).toEqual([0.8, 0.85]);
    await expect(compareRuns([a.id], { root })).rejects.toThrow(/at least two/);
    await expect(compareRuns([a.id, 'zzz'], { root })).rejects.toThrow(/no run with id "zzz"/);
  });
});
