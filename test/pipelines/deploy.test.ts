import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { runInferencePipeline } from '../../src/pipelines/infer-pipeline.js';
import { evaluateLabelledSource } from '../../src/pipelines/evaluate-folder.js';
import { readDecisions, readPromoted } from '../../src/registry/registry.js';
import { getRun, readEpochs } from '../../src/tracking/runs.js';

// A tiny end-to-end run on the synthetic set: the point is the plumbing (tracking, registry, gate, cache), not accuracy.
describe('deploy pipeline on a small synthetic set', () => {
  beforeAll(async () => {
    process.env.AREYOUACAT_HOME = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-deploy-'));
  });
  const opts = {
    data: 'synthetic:seed=5,n=160',
    epochs: 2,
    hyperparameters: { filters: [8, 16, 16] as number[], denseUnits: 16 },
    // Splits of 24 images drift by chance; the check itself is tested in test/validation.
    allowChecks: ['property-drift'],
    log: () => {},
  };

  it('rejects a model that misses the gate minimums and records why', async () => {
    const r = await runDeployPipeline({ ...opts, policy: { minPrecision: 1, minRecall: 1 } });
    expect(r.decision?.action).toBe('reject');
    expect(r.decision?.reasons.join(' ')).toMatch(/below minimum 1/);
    expect(await readPromoted()).toBeNull();
    const run = await getRun(r.training.run.runId);
    expect(run?.effectiveStatus).toBe('finished');
    expect(run?.artifacts.map((a) => a.name).sort()).toEqual(['evaluation.json', 'model', 'validation.json']);
    expect(run?.dataset?.manifestHash).toMatch(/^[0-9a-f]{16,}$/);
    expect((await readEpochs(r.training.run.runId)).length).toBe(2);
  });

  it('promotes when the gate passes, reuses the cached run on a second call, and serves batch predictions', async () => {
    const r = await runDeployPipeline({ ...opts, policy: { minPrecision: 0, minRecall: 0 } });
    expect(r.training.run.cached).toBe(true); // same inputs as the first test: the finished run is reused
    expect(r.decision?.action).toBe('promote');
    expect((await readPromoted())?.version).toBe(r.version.version);
    const again = await runDeployPipeline({ ...opts, policy: { minPrecision: 0, minRecall: 0 } });
    expect(again.alreadyPromoted).toBe(true);
    expect(again.version.version).toBe(r.version.version);
    expect((await readDecisions()).map((d) => d.action)).toEqual(['reject', 'promote']);

    const out = path.join(process.env.AREYOUACAT_HOME!, 'predictions.jsonl');
    const inf = await runInferencePipeline({ data: 'synthetic:seed=9,n=12', out });
    expect(inf.n).toBe(12);
    const rows = (await fs.readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { probability: number });
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row.probability).toBeGreaterThanOrEqual(0);

    const ev = await evaluateLabelledSource('synthetic:seed=9,n=12');
    expect(ev.n).toBe(12);
    expect(Object.values(ev.groups).reduce((a, g) => a + g.n, 0)).toBe(12);
    expect(ev.threshold).toBe(r.version.card.threshold);
  });

  it('compares a candidate trained on other data with the champion re-measured on the candidate\'s test set', async () => {
    const champion = await readPromoted();
    expect(champion).not.toBeNull();
    const r = await runDeployPipeline({ ...opts, data: 'synthetic:seed=6,n=160', policy: { minPrecision: 0, minRecall: 0, tolerance: 1 } });
    expect(r.version.card.dataset.manifestHash).not.toBe(champion!.card.dataset.manifestHash);
    const check = r.decision!.checks.find((c) => c.name.startsWith('not worse than champion'));
    expect(check?.detail).toMatch(new RegExp(`vs champion v${champion!.version}`));
    expect(r.decision!.checks.some((c) => c.name === 'same test set')).toBe(false);
    expect(r.decision!.action).toBe('promote');
  });
});
