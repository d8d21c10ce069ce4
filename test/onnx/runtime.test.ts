import * as tf from '../../src/tfjs/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { exportLayersModel } from '../../src/onnx/export.js';
import { defaultIntraOpThreads, loadOnnxRuntime, OnnxSession } from '../../src/onnx/runtime.js';
import { maxAbsDiff } from './helpers.js';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

describe('ONNX Runtime engine', () => {
  it('loads onnxruntime-node on this platform, once', () => {
    const first = loadOnnxRuntime();
    expect(first).toBe(loadOnnxRuntime());
    if (!first.available) throw new Error(`expected onnxruntime-node to load here: ${first.reason}`);
    expect(defaultIntraOpThreads()).toBeGreaterThanOrEqual(1);
  });

  it('runs batches of any size with the threads asked for', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const session = await OnnxSession.create(exportLayersModel(model), { intraOpNumThreads: 2 });
    expect(session.intraOpNumThreads).toBe(2);
    for (const n of [1, 5]) {
      const x = tf.randomUniform([n, 12, 12, 3], -3, 3, 'float32', n);
      const out = await session.run({ data: x.dataSync() as Float32Array, dims: [n, 12, 12, 3] });
      const expected = model.predict(x) as tf.Tensor;
      expect(out.dims).toEqual([n, 3]);
      expect(maxAbsDiff(expected.dataSync(), out.data)).toBeLessThan(1e-5);
      tf.dispose([x, expected]);
    }
    await expect(session.run({ data: new Float32Array(5), dims: [1, 12, 12, 3] })).rejects.toThrow(/does not have dims/);
    await session.release();
    await expect(OnnxSession.create(new Uint8Array(0), { intraOpNumThreads: 0 })).rejects.toThrow(/positive integer/);
  });
});
