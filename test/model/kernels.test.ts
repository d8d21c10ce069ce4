import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as tf from '../../src/tfjs/index.js';
import { selectBackend } from '../../src/model/backend.js';

/** Run one kernel on a backend with plain-array inputs and return its output values and shape. */
async function runOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, { values: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape);
  const out = tf.engine().runKernel<tf.Tensor>(kernel, tensors, attrs as tf.NamedAttrMap);
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  return result;
}

async function compare(kernel: string, inputs: Record<string, { values: Float32Array; shape: number[] }>, attrs: Record<string, unknown>) {
  const expected = await runOn('cpu', kernel, inputs, attrs);
  const actual = await runOn('wasm', kernel, inputs, attrs);
  expect(actual.shape).toEqual(expected.shape);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.values.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual.values[i] - expected.values[i]));
    maxAbs = Math.max(maxAbs, Math.abs(expected.values[i]));
  }
  // Relative to the largest gradient entry: sums of many products differ in rounding order only.
  expect(maxDiff).toBeLessThanOrEqual(1e-3 * Math.max(maxAbs, 1e-3));
}

function randomValues(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const convCase = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 10 }),
  w: fc.integer({ min: 1, max: 10 }),
  ci: fc.integer({ min: 1, max: 5 }),
  co: fc.integer({ min: 1, max: 5 }),
  fh: fc.integer({ min: 1, max: 4 }),
  fw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  pad: fc.oneof(fc.constant('same' as const), fc.constant('valid' as const), fc.integer({ min: 0, max: 2 })),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

type ConvCase = { n: number; h: number; w: number; ci: number; co: number; fh: number; fw: number; sh: number; sw: number; pad: 'same' | 'valid' | number; seed: number };

/** Conv2DBackpropFilter on wasm against cpu for one case whose output is `oh` x `ow`; x and dy from `seeds`. */
async function compareFilterGradient(c: ConvCase, [oh, ow]: [number, number], seeds: [number, number] = [c.seed, c.seed + 1]) {
  await compare(
    'Conv2DBackpropFilter',
    {
      x: { values: randomValues([c.n, c.h, c.w, c.ci], seeds[0]), shape: [c.n, c.h, c.w, c.ci] },
      dy: { values: randomValues([c.n, oh, ow, c.co], seeds[1]), shape: [c.n, oh, ow, c.co] },
    },
    { strides: [c.sh, c.sw], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: 'floor', filterShape: [c.fh, c.fw, c.ci, c.co] },
  );
}

function outSize(c: ConvCase): [number, number] | null {
  const info = (() => {
    try {
      return tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.ci], [c.fh, c.fw, c.ci, c.co], [c.sh, c.sw], 1, c.pad, 'floor');
    } catch {
      return null;
    }
  })();
  if (!info || info.outHeight < 1 || info.outWidth < 1) return null;
  return [info.outHeight, info.outWidth];
}

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    expect(await selectBackend({ prefer: 'wasm' })).toBe('wasm');
    await tf.ready();
  });

  it('Conv2DBackpropFilter over shapes, strides and paddings', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const o = outSize(c);
        fc.pre(o !== null);
        await compareFilterGradient(c, o);
      }),
      { numRuns: 60, seed: 42 },
    );
  });

  it('Conv2DBackpropFilter on a layer large enough to be reduced in several chunks', async () => {
    for (const [n, h, ci, co, stride] of [[8, 40, 3, 8, 1], [4, 33, 5, 6, 2], [30, 9, 3, 8, 1], [7, 40, 2, 4, 2]]) {
      const c = { n, h, w: h, ci, co, fh: 3, fw: 3, sh: stride, sw: stride, pad: 'same' as const, seed: 9 };
      await compareFilterGradient(c, outSize(c)!, [1, 2]);
    }
  });

  it('Conv2DBackpropInput over shapes, strides and paddings', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const o = outSize(c);
        fc.pre(o !== null);
        const [oh, ow] = o;
        await compare(
          'Conv2DBackpropInput',
          {
            dy: { values: randomValues([c.n, oh, ow, c.co], c.seed), shape: [c.n, oh, ow, c.co] },
            filter: { values: randomValues([c.fh, c.fw, c.ci, c.co], c.seed + 1), shape: [c.fh, c.fw, c.ci, c.co] },
          },
          { strides: [c.sh, c.sw], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: 'floor', inputShape: [c.n, c.h, c.w, c.ci] },
        );
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('MaxPoolGrad over window sizes, strides and paddings (including the 2x2 fast path)', async () => {
    const poolCase = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 9 }),
      w: fc.integer({ min: 1, max: 9 }),
      c: fc.integer({ min: 1, max: 6 }),
      f: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 3 }),
      pad: fc.constantFrom('same' as const, 'valid' as const),
      twoByTwo: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(poolCase, async (p) => {
        const f = p.twoByTwo ? 2 : p.f;
        const s = p.twoByTwo ? 2 : p.s;
        fc.pre(p.pad === 'same' || (p.h >= f && p.w >= f));
        const x = { values: randomValues([p.n, p.h, p.w, p.c], p.seed), shape: [p.n, p.h, p.w, p.c] };
        const attrs = { filterSize: [f, f], strides: [s, s], pad: p.pad, dimRoundingMode: undefined };
        const pooled = await runOn('cpu', 'MaxPool', { x }, attrs);
        const dy = { values: randomValues(pooled.shape, p.seed + 3), shape: pooled.shape };
        await compare('MaxPoolGrad', { dy, input: x, output: pooled }, attrs);
      }),
      { numRuns: 60, seed: 3 },
    );
  });

  it('BatchMatMul with and without transposes, and Sum over leading axes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          m: fc.integer({ min: 1, max: 40 }),
          k: fc.integer({ min: 1, max: 40 }),
          n: fc.integer({ min: 1, max: 40 }),
          batch: fc.constantFrom(0, 1, 3),
          ta: fc.boolean(),
          tb: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
        }),
        async ({ m, k, n, batch, ta, tb, seed }) => {
          const lead = batch === 0 ? [] : [batch];
          const aShape = [...lead, ...(ta ? [k, m] : [m, k])];
          const bShape = [...lead, ...(tb ? [n, k] : [k, n])];
          await compare(
            'BatchMatMul',
            { a: { values: randomValues(aShape, seed), shape: aShape }, b: { values: randomValues(bShape, seed + 1), shape: bShape } },
            { transposeA: ta, transposeB: tb },
          );
          const sShape = [...lead, m, k];
          for (const keepDims of [false, true]) {
            await compare('Sum', { x: { values: randomValues(sShape, seed + 2), shape: sShape } }, { axis: sShape.slice(0, -1).map((_, i) => i), keepDims });
          }
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it('SIMD filter gradient: output channels a multiple of 4, over shapes, strides and paddings', async () => {
    const simdCase = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 12 }),
      w: fc.integer({ min: 1, max: 12 }),
      ci: fc.integer({ min: 1, max: 7 }),
      co: fc.constantFrom(4, 8, 12, 16, 20, 36),
      fh: fc.integer({ min: 1, max: 3 }),
      fw: fc.integer({ min: 1, max: 3 }),
      sh: fc.integer({ min: 1, max: 2 }),
      sw: fc.integer({ min: 1, max: 2 }),
      pad: fc.oneof(fc.constant('same' as const), fc.constant('valid' as const), fc.integer({ min: 0, max: 2 })),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(simdCase, async (c) => {
        const o = outSize(c);
        fc.pre(o !== null);
        await compareFilterGradient(c, o);
      }),
      { numRuns: 40, seed: 21 },
    );
  });

  it('SIMD max-pool gradient: ties, zeros, -Infinity and NaN go to the first maximum like the cpu backend', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 2, max: 9 }),
          w: fc.integer({ min: 2, max: 9 }),
          c: fc.constantFrom(4, 8, 16, 20),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
        }),
        async (p) => {
          const shape = [p.n, p.h, p.w, p.c];
          // Few distinct values (many ties and relu-like zeros), with some -Infinity and NaN entries.
          const values = randomValues(shape, p.seed).map((v, i) => {
            if (i % 23 === 5) return -Infinity;
            if (i % 29 === 7) return NaN;
            return Math.max(0, Math.round(v * 4));
          });
          const x = { values, shape };
          const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
          const pooled = await runOn('cpu', 'MaxPool', { x }, attrs);
          const dy = { values: randomValues(pooled.shape, p.seed + 3), shape: pooled.shape };
          await compare('MaxPoolGrad', { dy, input: x, output: pooled }, attrs);
        },
      ),
      { numRuns: 30, seed: 5 },
    );
  });

  it('SIMD bias-gradient sum over many rows and large-operand matrix products', async () => {
    for (const shape of [[3, 97, 20], [2, 300, 4], [1000, 64], [5, 7, 36]]) {
      await compare('Sum', { x: { values: randomValues(shape, 4), shape } }, { axis: shape.slice(0, -1).map((_, i) => i), keepDims: false });
    }
    for (const [m, k, n, ta, tb] of [[7, 300, 64, false, false], [32, 512, 64, false, false], [5, 64, 300, false, true], [3, 1024, 16, false, false], [40, 300, 60, true, false]] as const) {
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      await compare(
        'BatchMatMul',
        { a: { values: randomValues(aShape, m + k), shape: aShape }, b: { values: randomValues(bShape, n + k), shape: bShape } },
        { transposeA: ta, transposeB: tb },
      );
    }
  });

  it('Add of a bias over the last axis (SIMD) and other broadcasts (stock) match the cpu backend', async () => {
    const cases: Array<[number[], number[]]> = [[[2, 5, 3, 16], [16]], [[7, 36], [36]], [[3, 4, 4], [4]], [[2, 3, 6], [6]], [[8], [8, 8]], [[4, 8], [4, 8]], [[16], [3, 16]]];
    for (const [aShape, bShape] of cases) {
      await compare('Add', { a: { values: randomValues(aShape, 8), shape: aShape }, b: { values: randomValues(bShape, 9), shape: bShape } }, {});
    }
  });

  it('the fallbacks without the SIMD module (AREYOUACAT_WASM_SIMD_KERNELS=0) match too', async () => {
    process.env.AREYOUACAT_WASM_SIMD_KERNELS = '0';
    try {
      const [n, h, ci, co] = [3, 10, 4, 8];
      await compareFilterGradient({ n, h, w: h, ci, co, fh: 3, fw: 3, sh: 1, sw: 1, pad: 'same', seed: 1 }, [h, h], [1, 2]);
      const x = { values: randomValues([2, 6, 6, 8], 3), shape: [2, 6, 6, 8] };
      const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
      const pooled = await runOn('cpu', 'MaxPool', { x }, attrs);
      await compare('MaxPoolGrad', { dy: { values: randomValues(pooled.shape, 4), shape: pooled.shape }, input: x, output: pooled }, attrs);
      await compare('Sum', { x: { values: randomValues([300, 16], 5), shape: [300, 16] } }, { axis: [0], keepDims: false });
      await compare(
        'BatchMatMul',
        { a: { values: randomValues([5, 300], 6), shape: [5, 300] }, b: { values: randomValues([300, 64], 7), shape: [300, 64] } },
        { transposeA: false, transposeB: false },
      );
    } finally {
      delete process.env.AREYOUACAT_WASM_SIMD_KERNELS;
    }
  });

  it('Identity and same-type Cast share the buffer safely: the copy outlives its source', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const before = tf.memory().numTensors;
    const copy = tf.clone(x);
    const cast = tf.cast(x, 'float32');
    const asInt = tf.cast(x, 'int32');
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await cast.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asInt.dtype).toBe('int32');
    expect(Array.from(await asInt.data())).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose([copy, cast, asInt]);
    expect(tf.memory().numTensors).toBe(before - 1);
  });

  it('a full conv2d gradient through tf.grads agrees with the cpu backend', async () => {
    const x = randomValues([2, 12, 12, 3], 5);
    const f = randomValues([3, 3, 3, 4], 6);
    const grads = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const xt = tf.tensor4d(x, [2, 12, 12, 3]);
      const ft = tf.tensor4d(f, [3, 3, 3, 4]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.maxPool(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')), 2, 2, 'valid').square().sum(),
      )([xt, ft]);
      const out = await Promise.all(g.map((t) => t.data()));
      tf.dispose([xt, ft, ...g]);
      return out;
    };
    const expected = await grads('cpu');
    const actual = await grads('wasm');
    for (let i = 0; i < 2; i++) {
      const scale = Math.max(...Array.from(expected[i], Math.abs));
      for (let j = 0; j < expected[i].length; j++) expect(Math.abs(actual[i][j] - expected[i][j])).toBeLessThanOrEqual(1e-3 * scale);
    }
  });
});
