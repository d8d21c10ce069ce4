import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/stats/roc-auc.js';
import * as evaluation from '../../src/evaluation/index.js';

describe('ROC AUC', () => {
  it('1 for a perfect score, 0.5 for a constant one', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([0, 1, 0, 1], [1, 1, 1, 1])).toBe(0.5);
  });

  it('0 for a perfectly inverted score; labels come first, scores second', () => {
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])).toBe(0);
  });

  it('ties between a cat and a non-cat count one half', () => {
    expect(rocAuc([1, 0], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.2])).toBeCloseTo(0.875, 12);
  });

  it('null for a single class and for no items: the area is undefined', () => {
    expect(rocAuc([1, 1, 1], [0.1, 0.5, 0.9])).toBeNull();
    expect(rocAuc([0], [0.3])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });

  it('does not depend on the order of the items', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0];
    const scores = [0.9, 0.4, 0.4, 0.7, 0.1, 0.8, 0.3, 0.3];
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    expect(rocAuc(order.map((i) => labels[i]), order.map((i) => scores[i]))).toBeCloseTo(rocAuc(labels, scores)!, 12);
  });

  it('is the one the evaluation exports', () => {
    expect(evaluation.rocAuc).toBe(rocAuc);
  });
});
