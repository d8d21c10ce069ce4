/** Issue 26, first run: metric keys in words, and what a model was trained on, for the pages people read. */
import { describe, expect, it } from 'vitest';
import { metricLabel, metricLabels } from '../../src/evaluation/metric-labels.js';
import { trainingDataSummary } from '../../src/registry/training-data.js';
import { feedbackStoreChoices } from '../../src/feedback/store-choices.js';

describe('words for the site', () => {
  it('metric keys', () => {
    expect(metricLabel('rocAuc')).toBe('ROC AUC');
    expect(metricLabel('positiveRate.selfie')).toBe('selfies called a cat');
    expect(metricLabel('recall.cat')).toBe('recall, cats');
    expect(metricLabel('test_f1')).toBe('F1 (test)');
    expect(metricLabel('somethingNew')).toBe('somethingNew');
    expect(metricLabels({ rocAuc: 1, ece: 0.1 })).toEqual({ rocAuc: 'ROC AUC', ece: 'calibration error (ECE)' });
  });

  it('the synthetic set is a demonstration with the command for real photos; a photo set is not', () => {
    const synthetic = trainingDataSummary({ dataset: { name: 'synthetic-seed-1-n-1600', manifestHash: 'x' } });
    expect(synthetic.synthetic).toBe(true);
    expect(synthetic.demonstration).toMatch(/demonstration/);
    expect(synthetic.command).toBe('areyouacat pipeline deploy --data path/to/photos');
    const photos = trainingDataSummary({ dataset: { name: 'cats-v1', manifestHash: 'x' } });
    expect(photos).toMatchObject({ synthetic: false, demonstration: null, command: null });
    expect(photos.text).toMatch(/cats-v1/);
    // The backbone the model files hold, when the card (registered without a run) does not say.
    expect(trainingDataSummary({ dataset: { name: 'cats-v1', manifestHash: 'x' } }, { backbone: 'coco-centernet' }).text).toMatch(/pretrained coco-centernet backbone/);
    expect(trainingDataSummary({ dataset: { name: 'cats-v1', manifestHash: 'x' } }).text).not.toMatch(/from scratch|backbone/);
  });

  it('feedback choices follow the backbone', () => {
    expect(feedbackStoreChoices({ hasBackbone: true })).toMatchObject({ stores: ['features', 'photo'], default: 'features' });
    expect(feedbackStoreChoices({ hasBackbone: false })).toMatchObject({ stores: ['photo'], default: 'photo' });
  });
});
