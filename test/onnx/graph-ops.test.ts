import * as tf from '../../src/tfjs/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { OnnxExportError, UnsupportedOnnxOpError } from '../../src/onnx/errors.js';
import { exportGraphModel, type GraphExportOptions } from '../../src/onnx/graph-export.js';
import { OnnxSession } from '../../src/onnx/runtime.js';
import { maxAbsDiff } from './helpers.js';
import { checkWithOnnxPackage } from './onnx-checker.js';

/**
 * Every op the graph-model exporter writes, in small hand-written TensorFlow.js graph models run by tfjs itself
 * (tf.loadGraphModel) and by ONNX Runtime: padding at odd and even sizes, strides, dilations, depthwise multipliers,
 * fused activations, broadcasting constants, reductions, resizes in each coordinate mode.
 */

const TOLERANCE = 1e-5;

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

// Attribute values as the tfjs converter writes them.
const str = (v: string) => ({ s: Buffer.from(v).toString('base64') });
const strs = (v: string[]) => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });
const ints = (v: number[]) => ({ list: { i: v.map(String) } });
const bool = (v: boolean) => ({ b: v });

interface Node {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}
interface Weight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: number[] | Float32Array;
}

let seed = 1;
function random(n: number, lo = -1, hi = 1): Float32Array {
  return tf.tidy(() => tf.randomUniform([n], lo, hi, 'float32', seed++).dataSync() as Float32Array).slice();
}

/** A graph model of `nodes` over one input `x` of [-1, h, w, c] and the constants `weights`. */
function graphModel(inputShape: number[], nodes: Node[], weights: Weight[]): tf.io.ModelArtifacts {
  const constNodes: Node[] = weights.map((w) => ({
    name: w.name,
    op: 'Const',
    attr: { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' }, value: { tensor: { dtype: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: w.shape.map((s) => ({ size: String(s) })) } } } },
  }));
  const placeholder: Node = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, ...inputShape].map((s) => ({ size: String(s) })) } } } };
  const buffers = weights.map((w) => (w.dtype === 'int32' ? new Uint8Array(Int32Array.from(w.data).buffer) : new Uint8Array(Float32Array.from(w.data).buffer)));
  const data = new Uint8Array(buffers.reduce((s, b) => s + b.length, 0));
  let offset = 0;
  for (const b of buffers) {
    data.set(b, offset);
    offset += b.length;
  }
  return {
    modelTopology: { node: [placeholder, ...constNodes, ...nodes], versions: { producer: 1 } },
    weightSpecs: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })),
    weightData: data.buffer,
  };
}

async function tfjsRun(artifacts: tf.io.ModelArtifacts, x: Float32Array, dims: number[], output: string): Promise<{ data: Float32Array; dims: number[] }> {
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  const input = tf.tensor4d(x, dims as [number, number, number, number]);
  const out = model.execute(input, output) as tf.Tensor;
  const result = { data: (await out.data()) as Float32Array, dims: out.shape.slice() };
  tf.dispose([input, out]);
  model.dispose();
  return result;
}

async function onnxRun(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return await session.run({ data: x, dims });
  } finally {
    await session.release();
  }
}

/**
 * Export `output` of the graph at `shape` (fixed, or dynamic when `runShapes` lists other sizes to run at, each
 * graph rebuilt by `build` for that size) and compare with tfjs at every size.
 */
async function compare(build: (h: number, w: number) => { artifacts: tf.io.ModelArtifacts; channels: number }, output: string, shape: [number, number], options: Partial<GraphExportOptions> = {}, runShapes: [number, number][] = [shape]): Promise<number> {
  const { artifacts, channels } = build(...shape);
  const bytes = exportGraphModel(artifacts, { outputs: [output], ...options });
  await checkWithOnnxPackage(bytes);
  let worst = 0;
  for (const [h, w] of runShapes) {
    const dims = [2, h, w, channels];
    const x = random(dims.reduce((a, b) => a * b, 1), -2, 3);
    const want = await tfjsRun(build(h, w).artifacts, x, dims, output);
    const got = await onnxRun(bytes, x, dims);
    expect(got.dims).toEqual(want.dims);
    worst = Math.max(worst, maxAbsDiff(want.data, got.data));
  }
  expect(worst).toBeLessThan(TOLERANCE);
  return worst;
}

const conv = (name: string, input: string, filter: string, attrs: Record<string, unknown>, op = '_FusedConv2D', extra: string[] = []): Node => ({
  name,
  op,
  input: [input, filter, ...extra],
  attr: { data_format: str('NHWC'), dilations: ints([1, 1, 1, 1]), ...attrs },
});

describe('graph-model ops on ONNX Runtime give what tfjs gives', () => {
  for (const [label, size, stride, kernel, padding, fused] of [
    ['3x3 stride 2 SAME, bias + Relu6, odd size', [9, 11], 2, 3, 'SAME', ['BiasAdd', 'Relu6']],
    ['3x3 stride 2 SAME, bias + Relu, even size', [10, 12], 2, 3, 'SAME', ['BiasAdd', 'Relu']],
    ['5x5 stride 2 SAME, bias only', [10, 9], 2, 5, 'SAME', ['BiasAdd']],
    ['3x3 stride 1 VALID, bias + Elu', [8, 8], 1, 3, 'VALID', ['BiasAdd', 'Elu']],
    ['3x3 stride 1 SAME, bias + Sigmoid', [7, 6], 1, 3, 'SAME', ['BiasAdd', 'Sigmoid']],
    ['2x2 stride 2 SAME, bias + LeakyRelu', [7, 7], 2, 2, 'SAME', ['BiasAdd', 'LeakyRelu']],
  ] as const) {
    it(`_FusedConv2D ${label}`, async () => {
      const weights = { filter: random(kernel * kernel * 3 * 4), bias: random(4) };
      const build = () => ({
        channels: 3,
        artifacts: graphModel(
          [size[0], size[1], 3],
          [conv('y', 'x', 'filter', { strides: ints([1, stride, stride, 1]), padding: str(padding), fused_ops: strs([...fused]), num_args: { i: '1' }, leakyrelu_alpha: { f: 0.3 } }, '_FusedConv2D', ['bias'])],
          [
            { name: 'filter', shape: [kernel, kernel, 3, 4], dtype: 'float32', data: weights.filter },
            { name: 'bias', shape: [4], dtype: 'float32', data: weights.bias },
          ],
        ),
      });
      await compare(build, 'y', size as unknown as [number, number]);
    });
  }

  it('Conv2D with dilation 2 and EXPLICIT padding', async () => {
    const filter = random(3 * 3 * 2 * 5);
    const second = random(3 * 3 * 5 * 3);
    const build = () => ({
      channels: 2,
      artifacts: graphModel(
        [9, 8, 2],
        [
          conv('a', 'x', 'f', { strides: ints([1, 1, 1, 1]), dilations: ints([1, 2, 2, 1]), padding: str('SAME') }, 'Conv2D'),
          conv('y', 'a', 'g', { strides: ints([1, 2, 2, 1]), padding: str('EXPLICIT'), explicit_paddings: ints([0, 0, 1, 2, 0, 1, 0, 0]) }, 'Conv2D'),
        ],
        [
          { name: 'f', shape: [3, 3, 2, 5], dtype: 'float32', data: filter },
          { name: 'g', shape: [3, 3, 5, 3], dtype: 'float32', data: second },
        ],
      ),
    });
    await compare(build, 'y', [9, 8]);
  });

  it('FusedDepthwiseConv2dNative 5x5 stride 2 (multiplier 2) and DepthwiseConv2dNative VALID', async () => {
    const weights = { f: random(5 * 5 * 3 * 2), bias: random(6), g: random(3 * 3 * 6) };
    const build = () => ({
      channels: 3,
      artifacts: graphModel(
        [11, 10, 3],
        [
          conv('a', 'x', 'f', { strides: ints([1, 2, 2, 1]), padding: str('SAME'), fused_ops: strs(['BiasAdd', 'Relu']), num_args: { i: '1' } }, 'FusedDepthwiseConv2dNative', ['bias']),
          conv('y', 'a', 'g', { strides: ints([1, 1, 1, 1]), padding: str('VALID') }, 'DepthwiseConv2dNative'),
        ],
        [
          { name: 'f', shape: [5, 5, 3, 2], dtype: 'float32', data: weights.f },
          { name: 'bias', shape: [6], dtype: 'float32', data: weights.bias },
          { name: 'g', shape: [3, 3, 6, 1], dtype: 'float32', data: weights.g },
        ],
      ),
    });
    await compare(build, 'y', [11, 10]);
  });

  it('convolutions with "SAME" padding at sizes chosen at run time (SAME_UPPER) match tfjs at each size', async () => {
    const weights = { f: random(3 * 3 * 3 * 4), bias: random(4), g: random(5 * 5 * 4) };
    const build = (h: number, w: number) => ({
      channels: 3,
      artifacts: graphModel(
        [h, w, 3],
        [
          conv('a', 'x', 'f', { strides: ints([1, 2, 2, 1]), padding: str('SAME'), fused_ops: strs(['BiasAdd', 'Relu6']), num_args: { i: '1' } }, '_FusedConv2D', ['bias']),
          conv('y', 'a', 'g', { strides: ints([1, 2, 2, 1]), padding: str('SAME') }, 'DepthwiseConv2dNative'),
        ],
        [
          { name: 'f', shape: [3, 3, 3, 4], dtype: 'float32', data: weights.f },
          { name: 'bias', shape: [4], dtype: 'float32', data: weights.bias },
          { name: 'g', shape: [5, 5, 4, 1], dtype: 'float32', data: weights.g },
        ],
      ),
    });
    await compare(build, 'y', [16, 16], { dynamicSize: true }, [
      [16, 16],
      [13, 10],
      [7, 22],
    ]);
  });

  for (const [op, label] of [
    ['MaxPool', 'max'],
    ['AvgPool', 'average (padding not counted)'],
  ] as const) {
    it(`${op} 3x3 stride 2 SAME: ${label}`, async () => {
      const build = () => ({
        channels: 4,
        artifacts: graphModel([9, 10, 4], [{ name: 'y', op, input: ['x'], attr: { data_format: str('NHWC'), ksize: ints([1, 3, 3, 1]), strides: ints([1, 2, 2, 1]), padding: str('SAME') } }], []),
      });
      await compare(build, 'y', [9, 10]);
    });
  }

  it('hard-swish and a squeeze-excite block: scalar and per-channel constants, Mean with keep_dims, tensor x tensor', async () => {
    // After a conv, so the chain runs on NCHW values and the constants are laid out to broadcast against them.
    const data = { conv: random(16), perChannel: random(4), perChannel2: random(4, 0.5, 2), rank4: random(28) };
    const build = () => ({
      channels: 4,
      artifacts: graphModel(
        [6, 7, 4],
        [
          conv('c', 'x', 'conv', { strides: ints([1, 1, 1, 1]), padding: str('SAME') }, 'Conv2D'),
          { name: 'hs/mul', op: 'Mul', input: ['sixth', 'c'] },
          { name: 'hs/add', op: 'AddV2', input: ['c', 'three'] },
          { name: 'hs/relu6', op: 'Relu6', input: ['hs/add'] },
          { name: 'hs', op: 'Mul', input: ['hs/mul', 'hs/relu6'] },
          { name: 'se/mean', op: 'Mean', input: ['hs', 'hw'], attr: { keep_dims: bool(true) } },
          { name: 'se/bias', op: 'BiasAdd', input: ['se/mean', 'perChannel'], attr: { data_format: str('NHWC') } },
          { name: 'se/sig', op: 'Sigmoid', input: ['se/bias'] },
          { name: 'se', op: 'Mul', input: ['se/sig', 'hs'] },
          { name: 'sub', op: 'Sub', input: ['se', 'rank4'] },
          { name: 'div', op: 'RealDiv', input: ['sub', 'perChannel2'] },
          { name: 'max', op: 'Maximum', input: ['div', 'hs'] },
          { name: 'min', op: 'Minimum', input: ['max', 'x'] },
          { name: 'tanh', op: 'Tanh', input: ['min'] },
          { name: 'elu', op: 'Elu', input: ['tanh'] },
          { name: 'leaky', op: 'LeakyRelu', input: ['elu'], attr: { alpha: { f: 0.1 } } },
          { name: 'relu', op: 'Relu', input: ['leaky'] },
          { name: 'y', op: 'Identity', input: ['relu'] },
        ],
        [
          { name: 'conv', shape: [1, 1, 4, 4], dtype: 'float32', data: data.conv },
          { name: 'sixth', shape: [], dtype: 'float32', data: [1 / 6] },
          { name: 'three', shape: [], dtype: 'float32', data: [3] },
          { name: 'hw', shape: [2], dtype: 'int32', data: [1, 2] },
          { name: 'perChannel', shape: [4], dtype: 'float32', data: data.perChannel },
          { name: 'perChannel2', shape: [4], dtype: 'float32', data: data.perChannel2 },
          { name: 'rank4', shape: [1, 1, 7, 4], dtype: 'float32', data: data.rank4 },
        ],
      ),
    });
    await compare(build, 'y', [6, 7]);
  });

  it('Max over the channels without keep_dims (a rank-3 output) and Mean over height and width (rank 2)', async () => {
    const build = () => ({
      channels: 5,
      artifacts: graphModel(
        [4, 6, 5],
        [
          { name: 'relu', op: 'Relu', input: ['x'] },
          { name: 'y', op: 'Max', input: ['relu', 'lastAxis'], attr: { keep_dims: bool(false) } },
          { name: 'z', op: 'Mean', input: ['relu', 'hw'], attr: { keep_dims: bool(false) } },
        ],
        [
          { name: 'lastAxis', shape: [1], dtype: 'int32', data: [-1] },
          { name: 'hw', shape: [2], dtype: 'int32', data: [1, 2] },
        ],
      ),
    });
    await compare(build, 'y', [4, 6]);
    await compare(build, 'z', [4, 6]);
  });

  it('ConcatV2 along the channels, along height, with a negative axis; Pad', async () => {
    const build = () => ({
      channels: 3,
      artifacts: graphModel(
        [5, 4, 3],
        [
          { name: 'r', op: 'Relu', input: ['x'] },
          { name: 'c', op: 'ConcatV2', input: ['x', 'r', 'minusOne'], attr: { N: { i: '2' } } },
          { name: 'h', op: 'ConcatV2', input: ['c', 'c', 'one'], attr: { N: { i: '2' } } },
          { name: 'y', op: 'Pad', input: ['h', 'paddings'] },
        ],
        [
          { name: 'minusOne', shape: [], dtype: 'int32', data: [-1] },
          { name: 'one', shape: [], dtype: 'int32', data: [1] },
          { name: 'paddings', shape: [4, 2], dtype: 'int32', data: [0, 0, 1, 2, 0, 1, 0, 0] },
        ],
      ),
    });
    await compare(build, 'y', [5, 4]);
  });

  for (const op of ['ResizeBilinear', 'ResizeNearestNeighbor'] as const) {
    for (const [label, alignCorners, halfPixel] of [
      ['legacy (neither flag)', false, false],
      ['align_corners', true, false],
      ['half_pixel_centers', false, true],
    ] as const) {
      it(`${op}, ${label}: up by a fraction, up by 2, down`, async () => {
        for (const [from, to] of [
          [[5, 4], [7, 9]],
          [[4, 6], [8, 12]],
          [[9, 8], [4, 5]],
        ] as const) {
          const build = () => ({
            channels: 3,
            artifacts: graphModel(
              [from[0], from[1], 3],
              [{ name: 'y', op, input: ['x', 'size'], attr: { align_corners: bool(alignCorners), half_pixel_centers: bool(halfPixel) } }],
              [{ name: 'size', shape: [2], dtype: 'int32', data: [...to] }],
            ),
          });
          await compare(build, 'y', [from[0], from[1]]);
        }
      });
    }
  }

  it('a resize whose target scales with the input is exported once for sizes chosen at run time (proportionalResize)', async () => {
    const build = (h: number, w: number) => ({
      channels: 2,
      artifacts: graphModel([h, w, 2], [{ name: 'y', op: 'ResizeBilinear', input: ['x', 'size'], attr: { align_corners: bool(false), half_pixel_centers: bool(false) } }], [{ name: 'size', shape: [2], dtype: 'int32', data: [2 * h, 2 * w] }]),
    });
    await compare(build, 'y', [4, 4], { dynamicSize: true, proportionalResize: true }, [
      [4, 4],
      [3, 7],
      [8, 5],
    ]);
    // Without proportionalResize the constant size cannot follow the input: an export error, not a graph.
    expect(() => exportGraphModel(build(4, 4).artifacts, { outputs: ['y'], dynamicSize: true })).toThrow(OnnxExportError);
  });
});

describe('graph-model ops the exporter does not write', () => {
  it('an unknown op is an UnsupportedOnnxOpError naming the op and the node; nothing is exported', () => {
    const artifacts = graphModel(
      [4, 4, 3],
      [
        { name: 'r', op: 'Relu', input: ['x'] },
        { name: 'odd/one', op: 'Softplus', input: ['r'] },
        { name: 'y', op: 'Sigmoid', input: ['odd/one'] },
      ],
      [],
    );
    let err: unknown;
    try {
      exportGraphModel(artifacts, { outputs: ['y'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toBe('op Softplus');
    expect((err as Error).message).toContain('node "odd/one"');
  });

  it('a known op with a setting it cannot write exactly is refused too (NCHW data, a fused activation, both resize flags)', () => {
    const filter = { name: 'f', shape: [1, 1, 3, 2], dtype: 'float32' as const, data: random(6) };
    const nchw = graphModel([4, 4, 3], [conv('y', 'x', 'f', { strides: ints([1, 1, 1, 1]), padding: str('SAME'), data_format: str('NCHW') }, 'Conv2D')], [filter]);
    expect(() => exportGraphModel(nchw, { outputs: ['y'] })).toThrow(/Conv2D with data_format NCHW/);
    const prelu = graphModel(
      [4, 4, 3],
      [conv('y', 'x', 'f', { strides: ints([1, 1, 1, 1]), padding: str('SAME'), fused_ops: strs(['BiasAdd', 'Prelu']), num_args: { i: '2' } }, '_FusedConv2D', ['b', 'alpha'])],
      [filter, { name: 'b', shape: [2], dtype: 'float32', data: [0, 0] }, { name: 'alpha', shape: [2], dtype: 'float32', data: [0.1, 0.1] }],
    );
    expect(() => exportGraphModel(prelu, { outputs: ['y'] })).toThrow(UnsupportedOnnxOpError);
    const both = graphModel([4, 4, 3], [{ name: 'y', op: 'ResizeBilinear', input: ['x', 'size'], attr: { align_corners: bool(true), half_pixel_centers: bool(true) } }], [{ name: 'size', shape: [2], dtype: 'int32', data: [8, 8] }]);
    expect(() => exportGraphModel(both, { outputs: ['y'] })).toThrow(UnsupportedOnnxOpError);
  });
});
