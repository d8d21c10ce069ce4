import { describe, expect, it } from 'vitest';
import { evaluationJson } from '../../src/cli/commands/pipeline.js';
import type { FolderEvaluation } from '../../src/pipelines/evaluate-folder.js';

describe('evaluate --json', () => {
  it('prints the keys it always printed, in the same order, from the camelCase library result', () => {
    const r: FolderEvaluation = {
      precision: 0.9, recall: 0.8, f1: 0.85, accuracy: 0.95, rocAuc: 0.97, threshold: 0.6, n: 20, modelVersion: 3,
      positiveGroup: 'cat', groups: { cat: { n: 10, calledCat: 8, rate: 0.8 }, dog: { n: 10, calledCat: 1, rate: 0.1 } },
      rejected: { n: 1, byReason: { 'not an image': 1 } },
    };
    const json = evaluationJson(r);
    expect(Object.keys(json)).toEqual(['precision', 'recall', 'f1', 'accuracy', 'roc_auc', 'threshold', 'n', 'model_version', 'positive_group', 'groups', 'rejected']);
    expect(json).toEqual({
      precision: 0.9, recall: 0.8, f1: 0.85, accuracy: 0.95, roc_auc: 0.97, threshold: 0.6, n: 20, model_version: 3,
      positive_group: 'cat', groups: { cat: { n: 10, called_cat: 8, rate: 0.8 }, dog: { n: 10, called_cat: 1, rate: 0.1 } },
      rejected: { n: 1, byReason: { 'not an image': 1 } },
    });
  });
});
