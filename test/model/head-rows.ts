import type { FeatureMatrix } from '../../src/model/backbone-features.js';
import { seededRandom } from '../../src/model/random.js';
import type { PreparedSplit } from '../../src/data/types.js';
import type { CnnHyperparameters } from '../../src/model/cnn.js';

/** Rows like pooled backbone features: small variances around non-zero means, the label in two columns; two views. */
export function featureRows(n: number, dim: number, seed: number): { views: FeatureMatrix[]; labels: Uint8Array } {
  const random = seededRandom(seed);
  const labels = new Uint8Array(n);
  const views = [0, 1].map(() => ({ n, dim, data: new Float32Array(n * dim) }));
  for (let r = 0; r < n; r++) {
    labels[r] = r % 2;
    for (const view of views) {
      for (let c = 0; c < dim; c++) view.data[r * dim + c] = 0.3 + 0.1 * (random() - 0.5) + (c < 2 && labels[r] ? 0.05 : 0);
    }
  }
  return { views, labels };
}

/** A split of `labels` with no pixels: training on given features needs labels only. */
export const splitOf = (labels: Uint8Array): PreparedSplit => ({
  size: 224, n: labels.length, pixels: new Uint8Array(0), labels, groups: Array.from(labels, (l) => (l ? 'cat' : 'dog')), paths: Array.from(labels, (_, i) => `p${i}.jpg`),
});

/** The default head shape on the ImageNet backbone: a linear correction of the prior. */
export const linearHead: CnnHyperparameters = {
  imageSize: 224, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0, denseUnits: 0,
  learningRate: 2e-3, batchSize: 16, augmentation: { flip: true }, backbone: 'imagenet-mobilenet-v1',
};
