import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../../src/tfjs/index.js';
import { chainedMethodNames } from '../../src/tfjs/chained-ops.js';

// src/tfjs builds TensorFlow.js from the scoped packages: what the `@tensorflow/tfjs` union package added on top
// of them (chained tensor methods, gradients, the cpu backend) must still be there, for this tfjs-core version.

const coreDist = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core')));

/** Names that tfjs-core's own chained-op ES modules (the ones the union package runs) add to Tensor. */
function upstreamChainedMethods(): string[] {
  const dir = path.join(coreDist, 'public', 'chained_ops');
  const all = fs.readFileSync(path.join(dir, 'register_all_chained_ops.js'), 'utf8');
  const files = [...all.matchAll(/import '\.\/(\w+)';/g)].map((m) => m[1]);
  expect(files.length).toBeGreaterThan(100);
  return files.flatMap((f) => [...fs.readFileSync(path.join(dir, `${f}.js`), 'utf8').matchAll(/prototype\.(\w+)\s*=/g)].map((m) => m[1]));
}

describe('TensorFlow.js from the scoped packages (src/tfjs)', () => {
  it('adds every chained tensor method that tfjs-core declares, and no other', () => {
    expect([...chainedMethodNames()].sort()).toEqual([...new Set(upstreamChainedMethods())].sort());
    const x = tf.tensor1d([1]);
    for (const name of chainedMethodNames()) expect(typeof (x as unknown as Record<string, unknown>)[name], name).toBe('function');
    x.dispose();
  });

  it('chained methods compute what the ops compute', async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
    const y = tf.tensor2d([[0.5, 1, 2], [3, 0, 1]]);
    const same = (a: tf.Tensor, b: tf.Tensor) => expect(a.arraySync()).toEqual(b.arraySync());
    same(x.reshape([3, 2]), tf.reshape(x, [3, 2]));
    same(x.mean(1), tf.mean(x, 1));
    same(x.add(y).mul(y).sub(x).div(tf.scalar(2)), tf.div(tf.sub(tf.mul(tf.add(x, y), y), x), 2));
    same(x.clipByValue(-1, 2), tf.clipByValue(x, -1, 2));
    same(x.concat(y, 0), tf.concat([x, y], 0));
    same(x.concat([y, y], 1), tf.concat([x, y, y], 1));
    same(x.stack(y), tf.stack([x, y]));
    same(x.where(tf.tensor2d([[1, 0, 1], [0, 1, 0]], undefined, 'bool'), y), tf.where(tf.tensor2d([[1, 0, 1], [0, 1, 0]], undefined, 'bool'), x, y));
    same(x.slice([0, 1], [-1, 1]), tf.slice(x, [0, 1], [-1, 1]));
    same(x.as1D(), tf.reshape(x, [6]));
    same(x.flatten(), tf.reshape(x, [6]));
    same(x.reshapeAs(y.transpose()), tf.reshape(x, [3, 2]));
    same(x.toInt(), tf.cast(x, 'int32'));
    same(tf.tensor1d([0, 2], 'int32').oneHot(3, 1, 0), tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3));
    const image = x.reshape<tf.Tensor4D>([1, 2, 3, 1]);
    same(image.resizeBilinear([4, 6]), tf.image.resizeBilinear(image, [4, 6]));
    expect(tf.scalar(7).reshape([1, 1]).asScalar().arraySync()).toBe(7);
    expect(() => x.asScalar()).toThrow(/only 1 element/);
    const disposed = tf.tensor1d([1, 2]);
    disposed.dispose();
    expect(() => disposed.square()).toThrow(/disposed/);
  });

  it('has the gradient of every op that tfjs-core defines one for (training works)', () => {
    const all = fs.readFileSync(path.join(coreDist, 'register_all_gradients.js'), 'utf8');
    const files = [...all.matchAll(/from '\.\/gradients\/(\w+)'/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(90);
    const kernelNames = tf as unknown as Record<string, unknown>;
    for (const f of files) {
      const ident = /kernelName: (\w+)/.exec(fs.readFileSync(path.join(coreDist, 'gradients', `${f}.js`), 'utf8'))?.[1];
      const kernel = ident ? kernelNames[ident] : undefined;
      expect(typeof kernel, f).toBe('string');
      expect(tf.getGradient(kernel as string), f).toBeDefined();
    }
  });

  it('has the layers, graph-model and io API the project uses, and the cpu backend', () => {
    for (const f of [tf.sequential, tf.model, tf.input, tf.loadLayersModel, tf.loadGraphModel, tf.io.fromMemory, tf.io.withSaveHandler]) {
      expect(typeof f).toBe('function');
    }
    expect(typeof tf.layers.dense).toBe('function');
    expect(tf.train.adam(0.01)).toBeInstanceOf(tf.AdamOptimizer);
    expect(typeof tf.serialization.registerClass).toBe('function');
    expect(tf.findBackendFactory('cpu')).toBeDefined();
  });
});
