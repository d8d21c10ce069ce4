import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { ingestDataset, loadDatasetManifest } from '../../src/data/ingest.js';
import { openSource } from '../../src/data/sources/index.js';
import { paths } from '../../src/storage/paths.js';
import { writeJsonAtomic } from '../../src/storage/atomic.js';
import { JsonlAppender } from '../../src/monitoring/event-log.js';
import { measureProperties } from '../../src/monitoring/measure.js';
import { binCounts, buildMonitoringReport, feedbackSection, DEFAULT_MONITORING_THRESHOLDS } from '../../src/monitoring/report.js';
import { psiFromCounts } from '../../src/stats/psi.js';
import { samplesFromSnapshot, servingNumbers } from '../../src/monitoring/serving-stats.js';
import { createServerMetrics } from '../../src/serve/server-instruments.js';
import { registerMonitorCommands } from '../../src/cli/commands/monitor.js';
import type { FeedbackRecord } from '../../src/feedback/types.js';
import type { MonitoringReport, PredictionLogEntry } from '../../src/monitoring/types.js';
import type { PropertyValues } from '../../src/validation/types.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { useTempHome } from '../serve/helpers/server-fixture.js';

function feedbackRecord(decision: 'cat' | 'not-cat', answer: 'cat' | 'not-cat', time: string): FeedbackRecord {
  return {
    schema: 1,
    id: `x-${Math.random()}`,
    time,
    prediction: { decision, probability: null, modelVersion: 1 },
    answer,
    servedVersion: 1,
    consent: true,
    photoKey: 'k',
    recordKey: 'r',
    image: { format: 'jpeg', bytes: 1, width: 1, height: 1, properties: null },
  };
}

describe('monitoring statistics', () => {
  it('PSI from counts is 0 for equal shares and large for a moved distribution', () => {
    expect(psiFromCounts([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 10);
    expect(psiFromCounts([50, 50, 0, 0], [0, 0, 50, 50])).toBeGreaterThan(1);
  });

  it('bins probabilities with the last bin closed', () => {
    expect(binCounts([0, 0.05, 0.5, 0.99, 1], [0, 0.5, 1])).toEqual([2, 3]);
  });

  it('computes real-world precision and recall from feedback answers', () => {
    const t = new Date().toISOString();
    const records = [
      ...Array.from({ length: 6 }, () => feedbackRecord('cat', 'cat', t)),
      ...Array.from({ length: 4 }, () => feedbackRecord('cat', 'not-cat', t)),
      ...Array.from({ length: 2 }, () => feedbackRecord('not-cat', 'cat', t)),
      ...Array.from({ length: 8 }, () => feedbackRecord('not-cat', 'not-cat', t)),
    ];
    const f = feedbackSection(records, DEFAULT_MONITORING_THRESHOLDS);
    expect(f).toMatchObject({ n: 20, tp: 6, fp: 4, fn: 2, tn: 8, precision: 0.6, recall: 0.75, status: 'alert' });
    expect(feedbackSection(records.slice(0, 5), DEFAULT_MONITORING_THRESHOLDS).status).toBe('insufficient-data');
  });

  it('reads latency quantiles and the 5xx rate from the server metrics snapshot', () => {
    const m = createServerMetrics();
    for (let i = 0; i < 90; i++) {
      m.requests.inc({ route: '/api/predict', method: 'POST', status: '200' });
      m.duration.observe(0.004, { route: '/api/predict' });
    }
    for (let i = 0; i < 10; i++) {
      m.requests.inc({ route: '/api/predict', method: 'POST', status: '500' });
      m.duration.observe(0.2, { route: '/api/predict' });
    }
    m.modelVersion.set(4);
    const n = servingNumbers(samplesFromSnapshot(m.registry.snapshot()));
    expect(n.requests).toBe(100);
    expect(n.errors5xx).toBe(10);
    expect(n.errorRate).toBeCloseTo(0.1);
    expect(n.p50Ms).toBeGreaterThan(2.5);
    expect(n.p50Ms).toBeLessThanOrEqual(5);
    expect(n.p95Ms).toBeGreaterThan(100);
    expect(n.modelVersion).toBe(4);
  });
});

describe('monitoring report', () => {
  let home: Awaited<ReturnType<typeof useTempHome>>;
  let trainProps: PropertyValues[];
  let darkProps: PropertyValues[];

  beforeAll(async () => {
    home = await useTempHome('monitor');
    await ingestDataset({ spec: 'synthetic:seed=5,n=80', name: 'syn', size: 32 });
    const manifest = await loadDatasetManifest('syn');
    const source = await openSource('synthetic:seed=5,n=80');
    const train = manifest.filter((e) => e.status === 'ok' && e.split === 'train');
    trainProps = [];
    darkProps = [];
    for (const e of train) {
      const buf = await source.read({ path: e.path, group: e.group, source: e.source });
      trainProps.push((await measureProperties(buf))!);
      const dark = await sharp(buf).linear(0.25, 0).jpeg().toBuffer();
      darkProps.push((await measureProperties(dark))!);
    }
    const runId = '20261126T000000000Z-abcdef';
    await writeJsonAtomic(path.join(paths.runs(), runId, 'artifacts', 'evaluation.json'), {
      test: {
        calibration: {
          bins: Array.from({ length: 10 }, (_, i) => ({ lo: i / 10, hi: (i + 1) / 10, count: i < 5 ? 30 : 10, meanPredicted: null, fractionPositive: null })),
        },
      },
    });
    await promoteTestModel(await registerTestModel({ tmp: home.home, dataset: 'syn', runId }));
  });

  afterAll(async () => {
    await home?.restore();
  });

  async function writeLogs(props: PropertyValues[], probability: (i: number) => number) {
    await fs.rm(paths.monitoring(), { recursive: true, force: true });
    const log = new JsonlAppender(paths.monitoring());
    const time = new Date().toISOString();
    props.forEach((p, i) => {
      const prob = probability(i);
      const entry: PredictionLogEntry = { time, version: 1, probability: prob, decision: prob >= 0.5 ? 'cat' : 'not-cat', latencyMs: 3, properties: p };
      log.append('predictions', entry);
    });
    await log.close();
  }

  it('finds no drift when incoming photos look like the training photos', async () => {
    // Reference: 15% of test predictions in each bin below 0.5, 5% in each above; live ones spread the same way.
    await writeLogs(trainProps, (i) => {
      const k = i % 20;
      return (k < 15 ? k % 5 : k - 10) / 10 + 0.05;
    });
    const { report, file } = await buildMonitoringReport();
    expect(report.drift.status).toBe('ok');
    expect(report.drift.reference?.n).toBe(trainProps.length);
    // Same photos, measured by the serving path and by the reference path: identical distributions.
    for (const row of report.drift.rows) expect(row.ks).toBe(0);
    expect(report.predictions.status).toBe('ok');
    expect(report.alerts).toEqual([]);
    const saved = JSON.parse(await fs.readFile(file!, 'utf8')) as MonitoringReport;
    expect(saved.drift.rows.length).toBe(report.drift.rows.length);
  });

  it('alerts on darker photos, a shifted prediction distribution, poor feedback and 5xx errors; the CLI exits 1', async () => {
    await writeLogs(darkProps, () => 0.95);
    const log = new JsonlAppender(paths.monitoring());
    const t = new Date().toISOString();
    for (let i = 0; i < 30; i++) log.append('feedback', feedbackRecord('cat', i < 10 ? 'cat' : 'not-cat', t));
    await log.close();
    const m = createServerMetrics();
    for (let i = 0; i < 50; i++) m.requests.inc({ route: '/api/predict', method: 'POST', status: i < 45 ? '200' : '500' });
    await writeJsonAtomic(path.join(paths.monitoring(), 'server-metrics.json'), { time: t, metrics: m.registry.snapshot() });

    const program = new Command().exitOverride();
    registerMonitorCommands(program);
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    });
    const oldExit = process.exitCode;
    try {
      await program.parseAsync(['node', 'areyouacat', 'monitor', '--json']);
    } finally {
      process.stdout.write = orig;
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = oldExit;
    const report = JSON.parse(writes.join('')) as MonitoringReport;
    const ids = report.alerts.map((a) => a.id);
    expect(ids).toContain('drift:brightness');
    expect(ids).toContain('predictions:psi');
    expect(ids).toContain('feedback:precision');
    expect(ids).toContain('serving:error-rate');
    const row = report.drift.rows.find((r) => r.property === 'brightness')!;
    expect(row.currentMedian).toBeLessThan(row.referenceMedian);
    const saved = JSON.parse(await fs.readFile(path.join(paths.monitoring(), 'report.json'), 'utf8')) as MonitoringReport;
    expect(saved.alerts.map((a) => a.id)).toEqual(ids);
  });
});
