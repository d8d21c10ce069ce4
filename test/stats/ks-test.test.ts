import { describe, expect, it } from 'vitest';
import { ksTest } from '../../src/stats/ks-test.js';

describe('Kolmogorov-Smirnov', () => {
  it('identical samples 0, disjoint samples 1 with a tiny p-value', () => {
    const a = Array.from({ length: 200 }, (_, i) => i);
    expect(ksTest(a, a).statistic).toBe(0);
    const far = ksTest(a, a.map((x) => x + 1000));
    expect(far.statistic).toBe(1);
    expect(far.pValue).toBeLessThan(1e-6);
  });

  it('an empty sample shows no difference', () => {
    expect(ksTest([], [1, 2])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('all-equal samples: 0 when the values are the same, 1 when they differ', () => {
    expect(ksTest([2, 2, 2], [2, 2]).statistic).toBe(0);
    expect(ksTest([2, 2, 2], [3, 3]).statistic).toBe(1);
  });
});
