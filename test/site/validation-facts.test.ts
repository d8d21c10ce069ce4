import { describe, expect, it } from 'vitest';
import { evidenceFacts, fieldWords } from '../../src/site/validation.js';
import { hourlyPredictions } from '../../src/site/monitoring.js';

const INTERNAL = /problemFraction|rejectedByReason|clusterCount|labelShare|[a-z][A-Z]/;

describe('validation evidence in words', () => {
  it('integrity: rejected files none, problems by kind, shares as percentages; thresholds left to the details', () => {
    const facts = evidenceFacts({
      total: 172, accepted: 172, rejected: 0, rejectedByReason: [], formats: { jpeg: 172 },
      problemCounts: { unreadable: 0, tiny: 0, 'near-constant': 12 }, problemFraction: 0.0698, problems: [{ path: 'a.jpg' }],
      thresholds: { minSide: 32 },
    });
    expect(facts).toEqual([
      { label: 'files', value: '172' },
      { label: 'accepted images', value: '172' },
      { label: 'rejected files', value: 'none' },
      { label: 'rejected files by reason', value: 'none' },
      { label: 'file formats', value: 'jpeg 172' },
      { label: 'accepted images with problems', value: 'near-constant 12' },
      { label: 'share of accepted images with problems', value: '7.0%' },
    ]);
  });

  it('duplicates and balance: duplicate clusters, cat share per split; no internal field name survives', () => {
    const facts = evidenceFacts({
      redundant: 80, fraction: 0.0133, clusterCount: 67, conflictingGroups: 2, clusters: [{ members: [] }],
      labelShare: { all: 0.25, train: 0.25 }, target: { cat: 0.25, dog: 0.75 }, mitigatedByPreparation: true, someNewCount: 3,
    });
    expect(facts).toContainEqual({ label: 'duplicate clusters', value: '67' });
    expect(facts).toContainEqual({ label: 'share of cats per split', value: 'all 25.0%, train 25.0%' });
    expect(facts).toContainEqual({ label: 'target mix', value: 'cat 25.0%, dog 75.0%' });
    expect(facts).toContainEqual({ label: 'shortcut gone after preparation', value: 'yes' });
    expect(facts).toContainEqual({ label: 'some new count', value: '3' });
    for (const f of facts) expect(f.label).not.toMatch(INTERNAL);
    expect(fieldWords('maxLayoutDifference')).toBe('max layout difference');
  });
});

describe('monitoring over the last hours', () => {
  it('counts predictions per hour with latency percentiles, empty hours as zero', () => {
    const now = new Date('2026-12-01T10:30:00Z');
    const hours = hourlyPredictions([
      { time: '2026-12-01T10:05:00Z', latencyMs: 10 }, { time: '2026-12-01T10:10:00Z', latencyMs: 30 },
      { time: '2026-12-01T08:59:59Z', latencyMs: 5 }, { time: '2026-11-29T10:00:00Z', latencyMs: 1 },
    ], now);
    expect(hours).toHaveLength(24);
    expect(hours[23]).toEqual({ hour: '2026-12-01T10:00:00Z', predictions: 2, p50LatencyMs: 20, p95LatencyMs: 29, p99LatencyMs: 29.8 });
    expect(hours[22]).toMatchObject({ hour: '2026-12-01T09:00:00Z', predictions: 0, p50LatencyMs: null });
    expect(hours[21]).toMatchObject({ hour: '2026-12-01T08:00:00Z', predictions: 1, p95LatencyMs: 5 });
    expect(hours.reduce((a, h) => a + h.predictions, 0)).toBe(3);
  });
});

describe('run page parameters', () => {
  it("a backbone model shows the head's hyperparameters, not the conv-block settings", async () => {
    const { modelParams } = await import('../../src/site/runs.js');
    const hp = { imageSize: 256, convBlocks: 3, filters: [16, 32, 64], kernelSize: 3, batchNorm: false, dropout: 0.3, denseUnits: 128, learningRate: 0.0016, batchSize: 32 };
    expect(modelParams({ ...hp, backbone: 'coco-centernet' })).toEqual({
      params: { imageSize: 256, dropout: 0.3, denseUnits: 128, learningRate: 0.0016, batchSize: 32, backbone: 'coco-centernet' },
      unused: ['convBlocks', 'filters', 'kernelSize', 'batchNorm'],
    });
    expect(modelParams(hp).params).toEqual(hp);
    expect(modelParams({ ...hp, backbone: null }).unused).toEqual([]);
  });
});
