import * as tf from '../../src/tfjs/index.js';
import { describe, expect, it } from 'vitest';
import { buildCnn, REFERENCE_HYPERPARAMETERS, validateHyperparameters } from '../../src/model/cnn.js';
import { trainStep } from '../../src/model/train.js';

// The head's shape options: no hidden layer (denseUnits 0) and a weight penalty (l2) that the training loss includes.
describe('head options', () => {
  const hp = { ...REFERENCE_HYPERPARAMETERS, imageSize: 16, convBlocks: 1, filters: [4], dropout: 0 };

  it('denseUnits 0 builds a head with no hidden layer; negative counts are refused', () => {
    const model = buildCnn({ ...hp, denseUnits: 0 }, 1);
    expect(model.layers.map((l) => l.name)).not.toContain('dense1');
    expect(model.predict(tf.zeros([2, 16, 16, 3])) as tf.Tensor).toBeDefined();
    expect(() => validateHyperparameters({ ...hp, denseUnits: -1 })).toThrow(/denseUnits/);
    expect(() => validateHyperparameters({ ...hp, l2: -0.1 })).toThrow(/l2/);
    model.dispose();
  });

  it('an l2 penalty is part of the loss a train step minimises', () => {
    const x = tf.randomUniform([4, 16, 16, 3], 0, 1, 'float32', 3);
    const y = tf.tensor2d([1, 0, 1, 0], [4, 1]);
    const losses: number[] = [];
    for (const l2 of [0, 10]) {
      const model = buildCnn({ ...hp, l2 }, 1);
      const { cost, probs } = trainStep(model, tf.train.sgd(0), x, y);
      losses.push(cost.dataSync()[0]);
      cost.dispose();
      probs.dispose();
      model.dispose();
    }
    // Same weights (same seed), same data: only the penalty differs.
    expect(losses[1]).toBeGreaterThan(losses[0] + 1e-3);
  });
});
