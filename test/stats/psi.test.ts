import { describe, expect, it } from 'vitest';
import { psi, psiFromCounts } from '../../src/stats/psi.js';

describe('PSI', () => {
  it('near 0 for the same distribution, large for a shifted one', () => {
    const a = Array.from({ length: 500 }, (_, i) => Math.sin(i) * 10);
    expect(psi(a, a)).toBeLessThan(0.01);
    expect(psi(a, a.map((x) => x + 15))).toBeGreaterThan(1);
  });

  it('is exactly 0 for equal shares whatever the sample sizes (counts and raw values)', () => {
    expect(psiFromCounts([10, 20, 30], [1, 2, 3])).toBe(0);
    expect(psiFromCounts([1000, 0, 3000], [1, 0, 3])).toBe(0);
    const reference = Array.from({ length: 1000 }, (_, i) => i % 10);
    const current = Array.from({ length: 10 }, (_, i) => i);
    expect(psi(reference, current, 10)).toBe(0);
  });

  it('is 0 when either side is empty (nothing to compare)', () => {
    expect(psi([], [1, 2, 3])).toBe(0);
    expect(psi([1, 2, 3], [])).toBe(0);
    expect(psiFromCounts([0, 0], [3, 4])).toBe(0);
    expect(psiFromCounts([3, 4], [0, 0])).toBe(0);
    expect(psiFromCounts([], [])).toBe(0);
  });

  it('an empty bin counts like half an image of the smaller sample, not like a share of 0', () => {
    // 20 current values, none in the reference's third bin: eps = 0.5 / 20.
    const v = psiFromCounts([100, 100, 100, 100], [5, 10, 0, 5]);
    const eps = 0.5 / 20, norm = 1 + 4 * eps;
    const p = (0.25 + eps) / norm;
    const q = [0.25, 0.5, 0, 0.25].map((s) => (s + eps) / norm);
    expect(v).toBeCloseTo(q.reduce((sum, qk) => sum + (qk - p) * Math.log(qk / p), 0), 12);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeLessThan(1);
    // Moved mass is still large.
    expect(psiFromCounts([50, 50, 0, 0], [0, 0, 50, 50])).toBeGreaterThan(1);
  });

  it('zero bins on both sides contribute nothing; counts of unequal length are padded with zeros', () => {
    expect(psiFromCounts([10, 0, 10], [5, 0, 5])).toBe(0);
    expect(psiFromCounts([10, 10, 0], [10, 10])).toBe(psiFromCounts([10, 10, 0], [10, 10, 0]));
  });

  it('all-equal reference values make one bin: nothing to measure a shift in', () => {
    expect(psi([3, 3, 3, 3], [1, 2, 3, 4, 5])).toBeGreaterThan(0);
    expect(psi([3, 3, 3, 3], [3, 3])).toBe(0);
  });

  it('is symmetric in shape and grows with the shift', () => {
    const a = Array.from({ length: 400 }, (_, i) => i / 4);
    const small = psi(a, a.map((x) => x + 5)), large = psi(a, a.map((x) => x + 30));
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small);
  });
});
