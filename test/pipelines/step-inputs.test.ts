import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSource, PreparedDataset } from '../../src/data/types.js';
import { stepKey } from '../../src/pipelines/step.js';
import { runTrainingPipeline } from '../../src/pipelines/train-pipeline.js';
import { trainStep, trainStepInput, type TrainStepValues } from '../../src/pipelines/train-step.js';
import { tuneStep, type TuneStepInput } from '../../src/pipelines/tune-step.js';
import { getRun } from '../../src/tracking/runs.js';
import type { ValidationReport } from '../../src/validation/types.js';
import { DEFAULT_HYPERPARAMETERS } from '../../src/pipelines/train-pipeline.js';

// Everything that can change a step's output is in its key: each value changed alone gives a new key (so the step
// runs again), and an unchanged input gives the same key (so the cache is reused).
describe('step inputs are explicit', () => {
  const dataset = { name: 'set-a', size: 64, key: 'k1' } as PreparedDataset;
  const source = { id: 'synthetic:seed=1' } as DataSource;
  const report = {
    createdAt: '2026-01-01T00:00:00Z',
    dataset: 'set-a',
    config: {},
    summary: { pass: 9, warn: 1, fail: 0 },
    counts: { entries: 10, accepted: 10, rejected: 0, measured: 10, prepared: 10 },
    timings: { total: 5 },
    checks: [{ id: 'balance', status: 'pass' }],
  } as unknown as ValidationReport;
  const values: TrainStepValues = {
    settings: { hyperparameters: DEFAULT_HYPERPARAMETERS, epochs: 2, patience: 4, seed: 1, classWeight: 'balanced', threshold: { kind: 'balanced' } },
    dataset,
    source,
    report,
    validationFile: 'datasets/set-a/validation.json',
    feedback: null,
    tuningRunId: null,
  };
  const trainKey = (v: Partial<TrainStepValues>) => stepKey(trainStep, trainStepInput({ ...values, ...v }));

  it('gives the training step a new key for each value it reads, and the same key for the same values', () => {
    const base = trainKey({});
    expect(trainKey({})).toBe(base);
    // Observers and the report's time stamps cannot change the output.
    expect(trainKey({ onProgress: () => {} })).toBe(base);
    expect(trainKey({ report: { ...report, createdAt: '2026-02-02T00:00:00Z', timings: { total: 9 } } })).toBe(base);

    const changed: Record<string, Partial<TrainStepValues>> = {
      name: { dataset: { ...dataset, name: 'set-b' } },
      'data content': { dataset: { ...dataset, key: 'k2' } },
      source: { source: { ...source, id: 'synthetic:seed=2' } },
      'validation checks': { report: { ...report, checks: [{ id: 'balance', status: 'warn' }] } as unknown as ValidationReport },
      'validation summary': { report: { ...report, summary: { pass: 8, warn: 2, fail: 0 } } },
      'validation file': { validationFile: 'datasets/set-b/validation.json' },
      feedback: { feedback: { used: [{ id: 'f1', group: 'cat' }], excluded: [], suspicious: [] } },
      'feedback flags': { feedback: { used: [{ id: 'f1', group: 'cat' }], excluded: ['f2'], suspicious: [] } },
      'parent run': { tuningRunId: 'run-1' },
      settings: { settings: { ...values.settings, epochs: 3 } },
    };
    const keys = Object.entries(changed).map(([what, v]) => [what, trainKey(v)] as const);
    for (const [what, key] of keys) expect(key, what).not.toBe(base);
    expect(new Set(keys.map(([, k]) => k)).size).toBe(keys.length);
  });

  it('gives the tuning step a new key for each value it reads', () => {
    const input: TuneStepInput = {
      tune: { trials: 2, strategy: 'random', minEpochs: 1, maxEpochs: 1, eta: 2, seed: 1 },
      base: values.settings,
      datasetName: 'set-a',
      datasetKey: 'k1',
      sourceSpec: 'synthetic:seed=1',
    };
    const base = stepKey(tuneStep, input);
    expect(stepKey(tuneStep, { ...input })).toBe(base);
    for (const v of [{ datasetName: 'set-b' }, { datasetKey: 'k2' }, { sourceSpec: 'synthetic:seed=2' }, { tune: { ...input.tune, trials: 3 } }]) {
      expect(stepKey(tuneStep, { ...input, ...v }), JSON.stringify(v)).not.toBe(base);
    }
  });

  it('refuses a bare function in an input (it would drop out of the key)', () => {
    expect(() => stepKey(trainStep, { ...trainStepInput(values), settings: { f: () => 1 } } as never)).toThrow(/observer\(\)/);
  });
});

describe('training pipeline re-runs its steps when an input changes', () => {
  beforeAll(async () => {
    process.env.AREYOUACAT_HOME = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-step-inputs-'));
  });
  const opts = {
    data: 'synthetic:seed=5,n=160',
    epochs: 1,
    hyperparameters: { filters: [8, 16, 16] as number[], denseUnits: 16 },
    allowChecks: ['property-drift'],
    log: () => {},
  };

  it('reuses the run for the same input, and trains again for another name or validation report', async () => {
    const first = await runTrainingPipeline(opts);
    expect(first.run.cached).toBe(false);
    const same = await runTrainingPipeline(opts);
    expect(same.run).toMatchObject({ cached: true, runId: first.run.runId });

    const renamed = await runTrainingPipeline({ ...opts, name: 'renamed' });
    expect(renamed.run.cached).toBe(false);
    expect((await getRun(renamed.run.runId))?.dataset?.name).toBe('renamed');

    const otherReport = await runTrainingPipeline({ ...opts, validation: { outliers: { maxListed: 3 } } });
    expect(otherReport.run.cached).toBe(false);
    expect(otherReport.run.runId).not.toBe(first.run.runId);
  }, 600_000);

  it('records the training run under the tuning run when tuning ran, and retrains when tuning does', async () => {
    const tune = { trials: 2, strategy: 'random' as const, minEpochs: 1, maxEpochs: 1, eta: 2, seed: 1, workers: 1 };
    const tuned = await runTrainingPipeline({ ...opts, tune });
    expect(tuned.tuning).not.toBeNull();
    expect(tuned.run.cached).toBe(false);
    expect((await getRun(tuned.run.runId))?.parentId).toBe(tuned.tuning!.parentRunId);
    const again = await runTrainingPipeline({ ...opts, tune });
    expect(again.run).toMatchObject({ cached: true, runId: tuned.run.runId });
  }, 900_000);
});
