import { describe, expect, it } from 'vitest';
import { confusionAt, confusionOf, ratio } from '../../src/stats/confusion.js';

describe('confusion matrix', () => {
  it('counts paired truths and decisions', () => {
    expect(confusionOf([true, true, false, false, true], [true, false, true, false, true])).toEqual({ tp: 2, fp: 1, tn: 1, fn: 1 });
  });

  it('is all zeros for no items', () => {
    expect(confusionOf([], [])).toEqual({ tp: 0, fp: 0, tn: 0, fn: 0 });
    expect(confusionAt([], [], 0.5)).toEqual({ tp: 0, fp: 0, tn: 0, fn: 0 });
  });

  it('refuses truths and decisions of different lengths', () => {
    expect(() => confusionOf([true], [])).toThrow(/1 truths but 0 decisions/);
  });

  it('at a threshold: a score equal to the threshold is called positive', () => {
    expect(confusionAt([1, 0, 1, 0], [0.5, 0.5, 0.4, 0.1], 0.5)).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1 });
  });

  it('a single class fills one row only', () => {
    expect(confusionAt([1, 1, 1], [0.9, 0.2, 0.6], 0.5)).toEqual({ tp: 2, fp: 0, tn: 0, fn: 1 });
    expect(confusionAt([0, 0], [0.9, 0.2], 0.5)).toEqual({ tp: 0, fp: 1, tn: 1, fn: 0 });
  });

  it('ratio over nothing is null, not 0', () => {
    expect(ratio(0, 0)).toBeNull();
    expect(ratio(3, 4)).toBe(0.75);
  });
});
