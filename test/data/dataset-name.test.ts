import { describe, expect, it } from 'vitest';
import { datasetName } from '../../src/data/dataset-name.js';

// Notebooks name their data set the way the training pipeline does, so 01-03 share one ingested set.
describe('datasetName', () => {
  it('prefers an explicit name, else derives one from the data spec', () => {
    expect(datasetName({ data: 'synthetic:seed=1,n=400', name: 'mine' })).toBe('mine');
    expect(datasetName({ data: 'synthetic:seed=1,n=400' })).toBe('synthetic-seed-1-n-400');
    expect(datasetName({ data: 's3://bucket/photos/' })).toBe('bucket-photos');
    expect(datasetName({ data: '../shared/datasets/cats-v1' })).toBe('cats-v1');
  });
});
