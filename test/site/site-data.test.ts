import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPageData, runsListData, siteRunIds } from '../../src/site/runs.js';
import { registryPageData } from '../../src/site/registry.js';
import { validationPageData } from '../../src/site/validation.js';
import { monitoringPageData } from '../../src/site/monitoring.js';
import { promotedBrowserModel } from '../../src/site/model.js';
import { startRun } from '../../src/tracking/runs.js';

describe('site data (what the loaders print)', () => {
  let tmp: string;
  const saved = process.env.AREYOUACAT_HOME;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-site-data-'));
    process.env.AREYOUACAT_HOME = tmp;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.AREYOUACAT_HOME;
    else process.env.AREYOUACAT_HOME = saved;
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('an empty data directory gives empty pages, not errors', async () => {
    expect(await siteRunIds()).toEqual([]);
    expect(await runsListData()).toEqual({ runs: [], broken: [] });
    expect(await registryPageData()).toEqual({ promoted: null, versions: [], broken: [], decisions: [], metricLabels: {}, trainedOn: {} });
    expect(await validationPageData()).toEqual({ reports: [], unreadable: [] });
    expect(await monitoringPageData()).toEqual({ report: null, source: 'file', days: [], hours: [], problems: [], verdict: null });
    const model = await promotedBrowserModel();
    expect(model.model).toBeNull();
    expect(model.weights.length).toBe(0);
    expect((await runPageData('20261126T230501123Z-3fa9c1')).found).toBe(false);
  });

  it('a tuning study: trials scored on the metric they report, trials linked to their study', async () => {
    const study = await startRun({ name: 'tune', tags: { kind: 'tuning' } });
    for (const [i, lr] of [0.1, 0.01].entries()) {
      const t = await startRun({ name: `trial-${i}`, parentId: study.id, params: { learningRate: lr, batchSize: 32 }, tags: { kind: 'trial', budget: '1' } });
      await t.logEpoch(1, { loss: 0.6, val_loss: 0.65, val_auc: 0.7, seconds: 3 });
      await t.finish({ epochs_trained: 1, best_epoch: 1, val_auc: [0.7, 0.8][i], val_loss: 0.5 });
    }
    // The final training run of a tuning pipeline may hang below the study too: it is not a trial.
    const final = await startRun({ name: 'train', parentId: study.id, tags: { kind: 'training' } });
    await final.finish({ f1: 0.9 });
    await study.finish({ best_val_auc: 0.8 });
    const page = await runPageData(study.id);
    expect(page.run?.kind).toBe('study');
    expect(page.trials.metric).toBe('val_auc');
    expect(page.trials.points.map((p) => p.score)).toEqual([0.7, 0.8]);
    const list = await runsListData();
    expect(list.runs.map((r) => r.kind).sort()).toEqual(['study', 'training', 'trial', 'trial']);
    expect(page.trials.points.map((p) => p.budget)).toEqual(['1', '1']);
    const trial = await runPageData(page.trials.points[0].id);
    expect(trial.curves).toContainEqual({ epoch: 1, metric: 'val_auc', value: 0.7 });
  });

  it('a damaged run is listed as broken and a damaged validation report is named', async () => {
    await fs.mkdir(path.join(tmp, 'runs', '20261126T230501123Z-3fa9c1'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'runs', '20261126T230501123Z-3fa9c1', 'run.json'), '{"broken');
    await fs.mkdir(path.join(tmp, 'datasets', 'd1'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'datasets', 'd1', 'validation.json'), 'not json');
    const list = await runsListData();
    expect(list.runs).toEqual([]);
    expect(list.broken[0].id).toBe('20261126T230501123Z-3fa9c1');
    const v = await validationPageData();
    expect(v.unreadable[0].dataset).toBe('d1');
    expect(v.unreadable[0].problem).toMatch(/not valid JSON/);
  });

  it('monitoring: logs become daily summaries; a damaged report is named, torn log lines are counted', async () => {
    const dir = path.join(tmp, 'monitoring');
    await fs.mkdir(dir, { recursive: true });
    const line = (o: object) => JSON.stringify(o) + '\n';
    await fs.writeFile(path.join(dir, 'predictions-2026-11-25.jsonl'),
      line({ time: '2026-11-25T10:00:00.000Z', version: 1, probability: 0.9, decision: 'cat', latencyMs: 10 }) +
      line({ time: '2026-11-25T11:00:00.000Z', version: 1, probability: 0.2, decision: 'not-cat', latencyMs: 30 }) + '{"torn');
    await fs.writeFile(path.join(dir, 'feedback-2026-11-26.jsonl'),
      line({ time: '2026-11-26T09:00:00.000Z', prediction: { decision: 'cat' }, answer: 'not-cat' }));
    await fs.writeFile(path.join(dir, 'report.json'), '{"schema": 1');
    const data = await monitoringPageData();
    expect(data.report).toBeNull();
    expect(data.problems).toEqual([expect.stringMatching(/^report\.json is unreadable/), '1 unreadable log lines skipped']);
    expect(data.days).toEqual([
      { day: '2026-11-25', predictions: 2, positiveRate: 0.5, meanProbability: 0.55, p95LatencyMs: 30, feedback: 0, feedbackAgreement: null },
      { day: '2026-11-26', predictions: 0, positiveRate: null, meanProbability: null, p95LatencyMs: null, feedback: 1, feedbackAgreement: 0 },
    ]);
  });
});
