import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/tfjs/index.js';
import { selectBackend, trainModel } from '../../src/model/index.js';
import { headOf, pretrainedBackboneOf } from '../../src/model/backbone-layer.js';
import { stepSeeds } from '../../src/model/dropout-seeds.js';
import { validateHyperparameters } from '../../src/model/cnn.js';
import { predictFromFeatures } from '../../src/model/backbone-features.js';
import { columnStatistics, FEATURE_NORM } from '../../src/model/feature-norm.js';
import { featureRows, linearHead, splitOf } from './head-rows.js';

// How a head on backbone features trains: dropout that really drops different units at each step, and features
// standardised with the training rows' own statistics in training and inference alike.

beforeAll(async () => {
  await selectBackend();
});

function dropoutModel(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [64] });
  const dropped = tf.layers.dropout({ rate: 0.5, seed, name: 'drop' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: dropped });
}

const maskOf = (model: tf.LayersModel) => tf.tidy(() => Array.from((model.apply(tf.ones([4, 64]), { training: true }) as tf.Tensor).dataSync()));

describe('dropout seeds', () => {
  it('a seeded dropout layer alone repeats its mask: the reason for stepSeeds', () => {
    const model = dropoutModel(7);
    expect(maskOf(model)).toEqual(maskOf(model));
    model.dispose();
  });

  it('stepSeeds gives a new mask at every step, the same one for the same step, and restores the seed', () => {
    const model = dropoutModel(7);
    const seeds = stepSeeds(model);
    expect(seeds.layers).toBe(1);
    seeds.forStep(0);
    const first = maskOf(model);
    seeds.forStep(1);
    const second = maskOf(model);
    expect(second).not.toEqual(first);
    // About half the units dropped at each step, and the masks disagree on many of them.
    const dropped = first.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(64 * 4 * 0.35);
    expect(dropped).toBeLessThan(64 * 4 * 0.65);
    expect(first.filter((v, i) => (v === 0) !== (second[i] === 0)).length).toBeGreaterThan(64 * 4 * 0.3);
    seeds.forStep(0);
    expect(maskOf(model)).toEqual(first);
    seeds.restore();
    expect(model.getLayer('drop').getConfig().seed).toBe(7);
    model.dispose();
  });
});

describe('feature statistics', () => {
  it('columnStatistics gives each column its mean and population variance', () => {
    const { mean, variance } = columnStatistics([
      { n: 2, dim: 2, data: Float32Array.from([1, 10, 3, 10]) },
      { n: 1, dim: 2, data: Float32Array.from([2, 13]) },
    ]);
    expect(Array.from(mean)).toEqual([2, 11]);
    expect(variance[0]).toBeCloseTo(2 / 3, 6);
    expect(variance[1]).toBeCloseTo(2, 6);
  });

  it('a head trains and predicts on the training rows\' own mean and variance', async () => {
    const dim = 770;
    const train = featureRows(96, dim, 1);
    const val = featureRows(32, dim, 2);
    const result = await trainModel(linearHead, splitOf(train.labels), splitOf(val.labels), {
      epochs: 2, seed: 3, classWeight: 'balanced', features: { train: train.views, val: val.views[0], valMirrored: val.views[1] },
    });
    const head = headOf(result.model, pretrainedBackboneOf(result.model));
    const nested = head.layers.find((l) => l.name === 'head') as tf.LayersModel | undefined;
    const norm = (nested ?? head).getLayer(FEATURE_NORM);
    const [, , movingMean, movingVariance] = norm.getWeights().map((w) => w.dataSync());
    const expected = columnStatistics(train.views);
    for (const c of [0, 1, 2, 500, 769]) {
      expect(movingMean[c]).toBeCloseTo(expected.mean[c], 5);
      expect(movingVariance[c]).toBeCloseTo(expected.variance[c], 6);
    }
    // Training is over: the layer is an ordinary batch norm again (no override left on the instance).
    expect(Object.prototype.hasOwnProperty.call(norm, 'call')).toBe(false);

    // Continuing that model on other rows (a fine-tune) keeps the statistics its weights were fitted to.
    const more = featureRows(48, dim, 9);
    for (const view of more.views) for (let i = 0; i < view.data.length; i += dim) view.data[i] += 0.5;
    await trainModel(linearHead, splitOf(more.labels), splitOf(val.labels), {
      epochs: 1, seed: 4, model: result.model, features: { train: more.views, val: val.views[0], valMirrored: val.views[1] },
    });
    const [, , keptMean] = norm.getWeights().map((w) => w.dataSync());
    expect(keptMean[0]).toBeCloseTo(expected.mean[0], 5);
    result.model.dispose();
  });
});

const logits = (p: Float32Array) => Array.from(p, (v) => Math.log(v / (1 - v)));

describe('averaged heads', () => {
  it('need a linear head on a backbone', () => {
    expect(() => validateHyperparameters({ ...linearHead, averagedHeads: 3 })).not.toThrow();
    expect(() => validateHyperparameters({ ...linearHead, averagedHeads: 3, denseUnits: 64 })).toThrow(/averagedHeads 3 needs a linear head.*denseUnits 64/);
    expect(() => validateHyperparameters({ ...linearHead, averagedHeads: 0 })).toThrow(/averagedHeads must be a positive integer/);
    expect(() => validateHyperparameters({ ...linearHead, averagedHeads: 2, backbone: null })).toThrow(/no backbone/);
  });

  it('k heads averaged give exactly the mean logit of the k heads trained alone', async () => {
    const dim = 770;
    const train = featureRows(64, dim, 4);
    const val = featureRows(32, dim, 5);
    const test = featureRows(12, dim, 6).views[0];
    const options = (seed: number) => ({ epochs: 2, seed, classWeight: 'balanced' as const, features: { train: train.views, val: val.views[0], valMirrored: val.views[1] } });
    const hp3 = { ...linearHead, dropout: 0.5, averagedHeads: 3 };
    const progress: [number, number][] = [];
    const averaged = await trainModel(hp3, splitOf(train.labels), splitOf(val.labels), { ...options(11), onProgress: (done, total) => progress.push([done, total]) });
    const alone = await Promise.all([11, 12, 13].map((seed) => trainModel({ ...hp3, averagedHeads: 1 }, splitOf(train.labels), splitOf(val.labels), options(seed))));
    const headLogits = async (m: tf.LayersModel) => logits(await predictFromFeatures(headOf(m, pretrainedBackboneOf(m)), test));
    const mean = (await Promise.all(alone.map((r) => headLogits(r.model)))).reduce((acc, l) => acc.map((v, i) => v + l[i] / 3), new Array<number>(test.n).fill(0));
    const got = await headLogits(averaged.model);
    for (let i = 0; i < test.n; i++) expect(got[i]).toBeCloseTo(mean[i], 3);
    // The members disagree (or averaging would prove nothing), and progress counts all three heads to the end.
    const first = await headLogits(alone[0].model);
    expect(Math.max(...first.map((v, i) => Math.abs(v - mean[i])))).toBeGreaterThan(1e-3);
    expect(progress.at(-1)).toEqual([progress.at(-1)![1], 3 * 4 * 2]);
    for (const r of [averaged, ...alone]) r.model.dispose();
  });
});

describe('a fresh process', () => {
  it('trains the same averaged head as a process whose backend was chosen long before', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/model/head-training-main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const fresh = JSON.parse(out.trim().split('\n').at(-1)!) as number[];

    const train = featureRows(64, 770, 4);
    const val = featureRows(32, 770, 5);
    const test = featureRows(12, 770, 6).views[0];
    const r = await trainModel({ ...linearHead, dropout: 0.7, averagedHeads: 2 }, splitOf(train.labels), splitOf(val.labels), {
      epochs: 3, seed: 21, classWeight: 'balanced', features: { train: train.views, val: val.views[0], valMirrored: val.views[1] },
    });
    const here = logits(await predictFromFeatures(headOf(r.model, pretrainedBackboneOf(r.model)), test));
    expect(fresh).toHaveLength(test.n);
    for (let i = 0; i < test.n; i++) expect(fresh[i]).toBeCloseTo(here[i], 4);
    r.model.dispose();
  }, 120_000);
});
