import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averagePrecision, calibration, confusionAt, metricsAt, prCurve, rocAuc, rocCurve, downsample, checkScored } from '../../src/evaluation/index.js';

// Five images, worked by hand: sorted by p: 0.9(cat) 0.8(not) 0.7(cat) 0.3(not) 0.2(cat).
const labels = [1, 0, 1, 0, 1];
const probs = [0.9, 0.8, 0.7, 0.3, 0.2];

describe('threshold metrics', () => {
  it('matches the hand-computed confusion matrix at 0.5', () => {
    expect(confusionAt(labels, probs, 0.5)).toEqual({ tp: 2, fp: 1, tn: 1, fn: 1 });
    const m = metricsAt(labels, probs, 0.5);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.positiveRate).toBeCloseTo(3 / 5, 12);
    expect(m.falsePositiveRate).toBeCloseTo(1 / 2, 12);
  });

  it('counts p == threshold as a cat', () => {
    expect(confusionAt([1, 0], [0.7, 0.7], 0.7)).toEqual({ tp: 1, fp: 1, tn: 0, fn: 0 });
  });

  it('gives null, not NaN, for undefined ratios', () => {
    const m = metricsAt([0, 0], [0.1, 0.2], 0.5);
    expect(m.precision).toBeNull();
    expect(m.recall).toBeNull();
    expect(m.f1).toBeNull();
    expect(m.accuracy).toBe(1);
    const e = metricsAt([], [], 0.5);
    expect(e.accuracy).toBeNull();
  });

  it('rejects bad input clearly', () => {
    expect(() => checkScored({ labels: [1, 0], probs: [0.5] })).toThrow(/2 labels but 1 probabilities/);
    expect(() => checkScored({ labels: [2], probs: [0.5] })).toThrow(/labels must be 0 or 1/);
    expect(() => checkScored({ labels: [1], probs: [NaN] })).toThrow(/must be in \[0, 1\]/);
  });
});

describe('ROC-AUC', () => {
  it('matches the pair count: 3 of 6 cat/non-cat pairs ordered right', () => {
    expect(rocAuc(labels, probs)).toBeCloseTo(0.5, 12);
  });
  it('counts ties as one half', () => {
    // pairs: 0.8>0.5, 0.8>0.2, 0.5=0.5 (half), 0.5>0.2 -> 3.5 / 4
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.2])).toBeCloseTo(0.875, 12);
    expect(rocAuc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3])).toBeCloseTo(0.5, 12);
  });
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])).toBe(1);
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4])).toBe(0);
  });
  it('is null when one class is missing', () => {
    expect(rocAuc([1, 1], [0.2, 0.9])).toBeNull();
    expect(rocAuc([0, 0], [0.2, 0.9])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });
  it('agrees with the trapezoid area under the ROC curve', () => {
    const y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1];
    const p = [0.9, 0.9, 0.8, 0.6, 0.6, 0.5, 0.4, 0.4, 0.4, 0.2, 0.1, 0.1];
    const c = rocCurve(y, p);
    let area = 0;
    for (let i = 1; i < c.length; i++) area += ((c[i].fpr - c[i - 1].fpr) * (c[i].tpr + c[i - 1].tpr)) / 2;
    expect(rocAuc(y, p)).toBeCloseTo(area, 12);
  });
});

describe('average precision (PR-AUC)', () => {
  it('matches the hand-computed sum 1/3*1 + 1/3*2/3 + 1/3*3/5 = 34/45', () => {
    expect(averagePrecision(labels, probs)).toBeCloseTo(34 / 45, 12);
  });
  it('takes ties together: 1/2*1 + 1/2*2/3 = 5/6', () => {
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.2])).toBeCloseTo(5 / 6, 12);
  });
  it('handles one-class inputs', () => {
    expect(averagePrecision([0, 0], [0.3, 0.4])).toBeNull();
    expect(averagePrecision([1, 1], [0.3, 0.4])).toBe(1);
  });
});

describe('curves', () => {
  it('ROC runs from (0,0) to (1,1) with one point per distinct score', () => {
    const c = rocCurve(labels, probs);
    expect(c[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(c[c.length - 1]).toMatchObject({ fpr: 1, tpr: 1, threshold: 0.2 });
    expect(c).toHaveLength(6);
    expect(c[2]).toMatchObject({ fpr: 0.5, tpr: 1 / 3, threshold: 0.8 });
    expect(rocCurve([1, 1], [0.5, 0.6])).toEqual([]);
  });
  it('PR starts at precision 1 and ends at recall 1', () => {
    const c = prCurve(labels, probs);
    expect(c[0]).toEqual({ recall: 0, precision: 1, threshold: null });
    expect(c[c.length - 1]).toMatchObject({ recall: 1, precision: 3 / 5 });
    expect(prCurve([0, 0], [0.5, 0.6])).toEqual([]);
  });
  it('downsamples long curves, keeping both ends', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => i);
    const d = downsample(pts, 50);
    expect(d.length).toBeLessThanOrEqual(50);
    expect(d[0]).toBe(0);
    expect(d[d.length - 1]).toBe(999);
    const n = 5000;
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const p = Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    expect(rocCurve(y, p, 100).length).toBeLessThanOrEqual(100);
  });
});

describe('calibration', () => {
  it('bins and ECE match the hand computation', () => {
    // bins: 0 -> (p .05, y 0), 1 -> (.15, 1), 8 -> (.85, 1), 9 -> (.95, 1) and (1.0, 1)
    const c = calibration([0, 1, 1, 1, 1], [0.05, 0.15, 0.85, 0.95, 1.0], 10);
    expect(c.bins).toHaveLength(10);
    expect(c.bins[9]).toMatchObject({ count: 2, fractionPositive: 1 });
    expect(c.bins[9].meanPredicted).toBeCloseTo(0.975, 12);
    expect(c.bins[4]).toMatchObject({ count: 0, meanPredicted: null, fractionPositive: null });
    // (0.05 + 0.85 + 0.15 + 2 * 0.025) / 5
    expect(c.ece).toBeCloseTo((0.05 + 0.85 + 0.15 + 0.05) / 5, 12);
    expect(calibration([], []).ece).toBeNull();
  });
});

describe('properties (random inputs with many ties)', () => {
  const scored = fc
    .array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 10 })), { minLength: 1, maxLength: 60 })
    .map((rows) => ({ labels: rows.map((r) => r[0]), probs: rows.map((r) => r[1] / 10) }));

  it('ROC-AUC equals the brute-force pair count', () => {
    fc.assert(
      fc.property(scored, ({ labels, probs }) => {
        let wins = 0;
        let pairs = 0;
        for (let i = 0; i < labels.length; i++) {
          for (let j = 0; j < labels.length; j++) {
            if (labels[i] !== 1 || labels[j] !== 0) continue;
            pairs++;
            wins += probs[i] > probs[j] ? 1 : probs[i] === probs[j] ? 0.5 : 0;
          }
        }
        const auc = rocAuc(labels, probs);
        if (pairs === 0) expect(auc).toBeNull();
        else expect(auc).toBeCloseTo(wins / pairs, 10);
      }),
    );
  });

  it('average precision equals the mean over cats of the precision at their score (ties together)', () => {
    fc.assert(
      fc.property(scored, ({ labels, probs }) => {
        const cats = labels.flatMap((y, i) => (y === 1 ? [i] : []));
        const ap = averagePrecision(labels, probs);
        if (!cats.length) {
          expect(ap).toBeNull();
          return;
        }
        let sum = 0;
        for (const i of cats) {
          const m = metricsAt(labels, probs, probs[i]);
          sum += m.precision!;
        }
        expect(ap).toBeCloseTo(sum / cats.length, 10);
      }),
    );
  });
});
