import { describe, expect, it } from 'vitest';
import { chooseThreshold, evaluate, parseThresholdStrategy, thresholdSweep, sliceMetrics, errorGallery, headlineMetrics } from '../../src/evaluation/index.js';

// Sorted by p: .9 cat, .8 cat, .7 not, .6 cat, .4 not, .1 not.
// Cut after k images: precision 1, 1, 2/3, 3/4, 3/5, 1/2; recall 1/3, 2/3, 2/3, 1, 1, 1; F1 .5, .8, .667, .857, .75, .667.
const val = { labels: [1, 1, 0, 1, 0, 0], probs: [0.9, 0.8, 0.7, 0.6, 0.4, 0.1] };

describe('threshold choice on validation', () => {
  it('maximize-f1 takes the midpoint below the best cut (.6 / .4)', () => {
    const c = chooseThreshold(val, { kind: 'maximize-f1' });
    expect(c.threshold).toBeCloseTo(0.5, 12);
    expect(c.metricsOnChoiceSplit.f1).toBeCloseTo(6 / 7, 12);
    expect(c.warning).toBeNull();
  });
  it('balanced takes the break-even point where maximize-f1 would buy recall with precision', () => {
    // p = .95, .90, ..., .30; cats at ranks 1-6, 10-12 and 14 (10 cats). Cut after 12: P 9/12 = .75, R .9
    // (min .75, the best); after 14: P 10/14 = .714, R 1, F1 .833 (the F1 peak; F1 after 12 is .818).
    const labels = [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1];
    const probs = labels.map((_, i) => 1 - (i + 1) / 20);
    const b = chooseThreshold({ labels, probs }, { kind: 'balanced' });
    expect(b.threshold).toBeCloseTo(0.375, 12);
    expect(b.metricsOnChoiceSplit.precision).toBeCloseTo(0.75, 12);
    expect(b.metricsOnChoiceSplit.recall).toBeCloseTo(0.9, 12);
    expect(chooseThreshold({ labels, probs }, { kind: 'maximize-f1' }).threshold).toBeCloseTo(0.3, 12);
    // on the 6-image split both agree on the .6 / .4 cut (min(3/4, 1) = .75 is also the best balance)
    expect(chooseThreshold(val, { kind: 'balanced' }).threshold).toBeCloseTo(0.5, 12);
    expect(parseThresholdStrategy('balanced')).toEqual({ kind: 'balanced' });
  });
  it('min-precision takes the highest recall that keeps the precision', () => {
    expect(chooseThreshold(val, { kind: 'min-precision', minPrecision: 0.9 }).threshold).toBeCloseTo(0.75, 12);
    expect(chooseThreshold(val, { kind: 'min-precision', minPrecision: 0.76 }).threshold).toBeCloseTo(0.75, 12);
    expect(chooseThreshold(val, { kind: 'min-precision', minPrecision: 0.75 }).threshold).toBeCloseTo(0.5, 12);
  });
  it('warns when the minimum precision cannot be reached', () => {
    const c = chooseThreshold({ labels: [0, 1], probs: [0.9, 0.1] }, { kind: 'min-precision', minPrecision: 0.8 });
    expect(c.warning).toMatch(/no threshold reaches precision 0.8/);
    expect(c.threshold).toBeCloseTo(0.1, 12);
  });
  it('refuses a split without cats', () => {
    expect(() => chooseThreshold({ labels: [0, 0], probs: [0.2, 0.3] }, { kind: 'maximize-f1' })).toThrow(/no cats/);
  });
  it('parses strategies and rejects unknown ones', () => {
    expect(parseThresholdStrategy('maximize-f1')).toEqual({ kind: 'maximize-f1' });
    expect(parseThresholdStrategy('min-precision:0.95')).toEqual({ kind: 'min-precision', minPrecision: 0.95 });
    expect(parseThresholdStrategy('fixed=0.5')).toEqual({ kind: 'fixed', threshold: 0.5 });
    expect(() => parseThresholdStrategy('min-precision:2')).toThrow(/unknown threshold strategy/);
    expect(() => parseThresholdStrategy('best')).toThrow(/unknown threshold strategy/);
  });
});

describe('threshold sweep', () => {
  it('has 101 points and matches metricsAt', () => {
    const s = thresholdSweep(val.labels, val.probs);
    expect(s).toHaveLength(101);
    expect(s[50]).toMatchObject({ threshold: 0.5, precision: 0.75, recall: 1 });
    expect(s[0]).toMatchObject({ threshold: 0, precision: 0.5, recall: 1, positiveRate: 1 });
    expect(s[100]).toMatchObject({ precision: null, recall: 0, positiveRate: 0 });
  });
});

const test = {
  labels: [1, 1, 1, 0, 0, 0, 0, 1],
  probs: [0.95, 0.55, 0.3, 0.92, 0.6, 0.1, 0.45, 0.7],
  groups: ['cat', 'cat', 'cat', 'dog', 'selfie', 'misc', 'dog', 'cat'],
  paths: ['cat/a.jpg', 'cat/b.jpg', 'cat/c.jpg', 'dog/d.jpg', 'selfie/e.jpg', 'misc/f.jpg', 'dog/g.jpg', 'cat/h.jpg'],
};

describe('slices and error gallery', () => {
  it('reports per-group positive rate and recall', () => {
    const s = sliceMetrics(test, 0.5);
    const by = Object.fromEntries(s.map((x) => [x.group, x]));
    expect(by.cat).toMatchObject({ n: 4, positives: 3 + 1, predictedPositive: 3, recall: 3 / 4, positiveRate: 3 / 4 });
    expect(by.dog).toMatchObject({ n: 2, positives: 0, predictedPositive: 1, positiveRate: 0.5, recall: null });
    expect(by.selfie.positiveRate).toBe(1);
    expect(by.misc.positiveRate).toBe(0);
  });
  it('picks the most confident mistakes first, with thumbnails when given', async () => {
    const g = await errorGallery(test, 0.5, 5, async (p) => {
      if (p.startsWith('selfie')) throw new Error('unreadable');
      return `data:image/png;base64,${Buffer.from(p).toString('base64')}`;
    });
    expect(g.falsePositives.map((e) => e.path)).toEqual(['dog/d.jpg', 'selfie/e.jpg']);
    expect(g.falsePositives[0]).toMatchObject({ group: 'dog', label: 0, probability: 0.92 });
    expect(g.falsePositives[0].thumbnail).toMatch(/^data:image\/png;base64,/);
    expect(g.falsePositives[1].thumbnail).toBeUndefined();
    expect(g.falseNegatives.map((e) => e.path)).toEqual(['cat/c.jpg']);
    expect((await errorGallery(test, 0.5, 1)).falsePositives).toHaveLength(1);
  });
});

describe('evaluate', () => {
  it('chooses the threshold on validation and applies it to test', async () => {
    const r = await evaluate({ val, test, strategy: { kind: 'maximize-f1' } });
    expect(r.threshold.threshold).toBeCloseTo(0.5, 12);
    expect(r.test.atThreshold.threshold).toBeCloseTo(0.5, 12);
    expect(r.test.atThreshold).toMatchObject({ tp: 3, fp: 2, fn: 1, tn: 2 });
    expect(r.test.slices.map((s) => s.group)).toEqual(['cat', 'dog', 'selfie', 'misc']);
    expect(r.val?.atThreshold.f1).toBeCloseTo(6 / 7, 12);
    const h = headlineMetrics(r);
    expect(h.precision).toBeCloseTo(3 / 5, 12);
    expect(h['positiveRate.dog']).toBe(0.5);
    // The report survives JSON (what the site reads).
    expect(JSON.parse(JSON.stringify(r)).test.roc.length).toBeGreaterThan(2);
  });
});
