import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '../../src/tfjs/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { cachedOnnxExport, layersModelContent, onnxExportKey } from '../../src/onnx/cache.js';
import { exportLayersModel } from '../../src/onnx/export.js';

let dir = '';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-cache-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const small = (seed: number) =>
  tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed }) })] });

describe('ONNX export cache', () => {
  it('keys by model content and options, in any key order; other weights or options are other files', async () => {
    const a = await layersModelContent(small(1));
    const b = await layersModelContent(small(2));
    expect(onnxExportKey(a, { pool: 'mean', outputLayer: 'x' })).toBe(onnxExportKey(a, { outputLayer: 'x', pool: 'mean' }));
    expect(onnxExportKey(a, {})).not.toBe(onnxExportKey(b, {}));
    expect(onnxExportKey(a, { pool: 'mean' })).not.toBe(onnxExportKey(a, { pool: 'max' }));
    expect(() => onnxExportKey(a, { emit: () => 1 })).toThrow(/plain data/);
  });

  it('exports once, then reads the file; the file holds the whole export', async () => {
    const model = small(3);
    const content = await layersModelContent(model);
    let exports = 0;
    const make = () => {
      exports++;
      return exportLayersModel(model);
    };
    const first = await cachedOnnxExport({ content, options: { format: 'plain' }, dir }, make);
    const second = await cachedOnnxExport({ content, options: { format: 'plain' }, dir }, make);
    expect([first.cached, second.cached, exports]).toEqual([false, true, 1]);
    expect(second.path).toBe(first.path);
    expect(Buffer.compare(Buffer.from(second.bytes), Buffer.from(first.bytes))).toBe(0);
    expect((await fs.readdir(dir)).filter((f) => !f.endsWith('.onnx'))).toEqual([]);
    model.dispose();
  });
});
