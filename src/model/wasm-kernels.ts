import * as tf from '../tfjs/index.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { envSetting, heapOffset, simdGemm, simdKernels, type SimdKernels } from './wasm-simd.js';

/**
 * Training kernels for the wasm backend. The stock wasm backend has no Conv2DBackpropFilter (so a CNN cannot
 * train) and slow Conv2DBackpropInput / MaxPoolGrad kernels.
 *  - filter gradient: patches of the input (im2col, [fh*fw*Ci, chunk of output pixels]) times the output
 *    gradient, reduced chunk by chunk on our own register-tiled WebAssembly SIMD loops (wasm-simd.ts); XNNPACK's GEMM
 *    is the fallback (it repacks the long output-gradient operand on every call, which made it slow here);
 *  - input gradient: XNNPACK conv of the (stride-dilated) output gradient with the spatially flipped filter
 *    transposed to [fh, fw, Co, Ci], padded by (filter - 1 - pad);
 *  - MaxPoolGrad (2x2/2 on SIMD), the bias-gradient Sum and large-operand BatchMatMul on the SIMD loops too;
 *    Identity and same-type Cast share buffers instead of copying. All match the cpu backend (tests).
 */

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

function runWasm(name: string, backend: BackendWasm, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as Info;
}

function dispose(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return runWasm('Transpose', backend, { x }, { perm });
}

function conv(backend: BackendWasm, x: Info, filter: Info, dilations: [number, number], pad: Pad): Info {
  return runWasm('Conv2D', backend, { x, filter }, {
    strides: [1, 1], dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined,
  });
}

function convInfoOf(
  xShape: number[], filterShape: number[], attrs: { strides: number | [number, number]; pad: unknown; dimRoundingMode?: unknown; dataFormat?: unknown },
): tf.backend_util.Conv2DInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  if (dataFormat !== 'channelsLast') throw new Error("wasm training kernels support dataFormat 'NHWC' only");
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, 1,
    attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, false, dataFormat,
  );
}

/** View a tensor's wasm buffer with another shape (no copy; the caller must not dispose the view). */
function view(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** out[M, N] = a[M, K] x b[K, N] as a 1x1 convolution, which XNNPACK runs as a fast GEMM. */
function gemm(backend: BackendWasm, a: Info, b: Info, m: number, k: number, n: number): Info {
  return conv(backend, view(a, [1, m, 1, k]), view(b, [1, 1, k, n]), [1, 1], 'valid');
}

/** Reduction length per GEMM in the filter gradient: small enough for the packed operand to stay in cache. */
const FILTER_GRAD_CHUNK = Number(envSetting('AREYOUACAT_FILTER_GRAD_CHUNK') ?? 1024);

/**
 * dW[fh, fw, Ci, Co] = sum over n, oh, ow of xPadded[n, oh*s + r, ow*s + c, ci] * dy[n, oh, ow, co], computed as
 * patches[(r, c, ci), (oh, ow, n)] x dy[(oh, ow, n), co]. The patch matrix is gathered from x transposed to
 * [Ci, H, W, N] (long contiguous runs) and dy is transposed to [OH, OW, N, Co]. The reduction (N * OH * OW) is long,
 * so it is cut into chunks of whole output rows, one XNNPACK GEMM each, summed here: one GEMM over the whole
 * length streams its packed operand from memory once per row tile and is several times slower.
 */
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as { strides: number | [number, number]; pad: unknown; dimRoundingMode?: unknown; dataFormat?: unknown; filterShape: number[] };
  const info = convInfoOf(x.shape, attrs.filterShape, attrs);
  const simd = info.outChannels % 4 === 0 ? simdKernels(backend) : null;
  if (simd) return conv2DBackpropFilterSimd(backend, simd, x, dy, info);
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { top, left } = info.padInfo;
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [Ci, H, W, N]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
  const P = fh * fw * Ci;
  const rowRun = OW * N;
  const rowsPerChunk = Math.max(1, Math.min(OH, Math.floor(FILTER_GRAD_CHUNK / rowRun)));
  const acc = new Float32Array(P * Co);
  // Valid output columns per filter column: w = ow*sw + c - left must lie in [0, W).
  const owStart = new Int32Array(fw);
  const owEnd = new Int32Array(fw);
  for (let c = 0; c < fw; c++) {
    owStart[c] = Math.max(0, Math.ceil((left - c) / sw));
    owEnd[c] = Math.min(OW, Math.floor((W - 1 + left - c) / sw) + 1);
  }
  const patches = backend.makeOutput([P, rowsPerChunk * rowRun], 'float32');
  for (let oh0 = 0; oh0 < OH; oh0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, OH - oh0);
    const M = rows * rowRun;
    const src = backend.typedArrayFromHeap(xT) as Float32Array;
    const dst = backend.typedArrayFromHeap(patches) as Float32Array;
    for (let r = 0; r < fh; r++) {
      for (let c = 0; c < fw; c++) {
        const s0 = owStart[c];
        const s1 = owEnd[c];
        for (let ci = 0; ci < Ci; ci++) {
          const rowBase = ((r * fw + c) * Ci + ci) * M;
          for (let kk = 0; kk < rows; kk++) {
            const d = rowBase + kk * rowRun;
            const h = (oh0 + kk) * sh + r - top;
            if (h < 0 || h >= H || s1 <= s0) {
              dst.fill(0, d, d + rowRun);
              continue;
            }
            if (s0 > 0) dst.fill(0, d, d + s0 * N);
            if (s1 < OW) dst.fill(0, d + s1 * N, d + rowRun);
            const srcRow = (ci * H + h) * W;
            if (sw === 1) {
              const from = (srcRow + s0 + c - left) * N;
              dst.set(src.subarray(from, from + (s1 - s0) * N), d + s0 * N);
            } else {
              for (let ow = s0; ow < s1; ow++) {
                const from = (srcRow + ow * sw + c - left) * N;
                const o = d + ow * N;
                for (let b = 0; b < N; b++) dst[o + b] = src[from + b];
              }
            }
          }
        }
      }
    }
    const dyChunk = backend.makeOutput([M, Co], 'float32');
    const g = backend.typedArrayFromHeap(dyT) as Float32Array;
    (backend.typedArrayFromHeap(dyChunk) as Float32Array).set(g.subarray(oh0 * rowRun * Co, (oh0 + rows) * rowRun * Co));
    const part = gemm(backend, patches, dyChunk, P, M, Co);
    const pv = backend.typedArrayFromHeap(part) as Float32Array;
    for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    dispose(backend, dyChunk, part);
  }
  dispose(backend, xT, dyT, patches);
  const out = backend.makeOutput([fh, fw, Ci, Co], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/**
 * The filter gradient on the SIMD tiles: dW[(r, c, ci), co] += patches[(r, c, ci), (n, oh, ow)] x dy[(n, oh, ow), co]
 * over chunks of whole images. dy is read in place (its rows are already (n, oh, ow)); the patch rows are cut
 * from the input in channels-first layout [Ci, N, H, W], for stride 1 with as many output as input columns as one
 * long run per image (then the columns that wrapped around a row edge are zeroed).
 */
function conv2DBackpropFilterSimd(backend: BackendWasm, k: SimdKernels, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo): Info {
  const [N, H, W, Ci] = x.shape;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { top, left } = info.padInfo;
  const P = fh * fw * Ci;
  const pix = OH * OW;
  const ohStart = Array.from({ length: fh }, (_, r) => Math.max(0, Math.ceil((top - r) / sh)));
  const ohEnd = Array.from({ length: fh }, (_, r) => Math.min(OH, Math.floor((H - 1 + top - r) / sh) + 1));
  const owStart = Array.from({ length: fw }, (_, c) => Math.max(0, Math.ceil((left - c) / sw)));
  const owEnd = Array.from({ length: fw }, (_, c) => Math.min(OW, Math.floor((W - 1 + left - c) / sw) + 1));
  const oneRun = sh === 1 && sw === 1 && W === OW;
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(FILTER_GRAD_CHUNK / pix)));
  const xc = transpose2D(backend, x, N * H * W, Ci); // [Ci, N, H, W]
  const out = backend.makeOutput([fh, fw, Ci, Co], 'float32');
  const patches = backend.makeOutput([P, imagesPerChunk * pix], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  for (let n0 = 0; n0 < N; n0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, N - n0);
    const M = nb * pix;
    const src = backend.typedArrayFromHeap(xc) as Float32Array;
    const dst = backend.typedArrayFromHeap(patches) as Float32Array;
    for (let r = 0; r < fh; r++) {
      const o0 = ohStart[r];
      const o1 = ohEnd[r];
      for (let c = 0; c < fw; c++) {
        const s0 = owStart[c];
        const s1 = owEnd[c];
        for (let ci = 0; ci < Ci; ci++) {
          for (let b = 0; b < nb; b++) {
            const d0 = ((r * fw + c) * Ci + ci) * M + b * pix;
            if (o1 <= o0 || s1 <= s0) {
              dst.fill(0, d0, d0 + pix);
              continue;
            }
            if (o0 > 0) dst.fill(0, d0, d0 + o0 * OW);
            if (o1 < OH) dst.fill(0, d0 + o1 * OW, d0 + pix);
            const image = (ci * N + n0 + b) * H * W;
            if (oneRun) {
              const from = image + (o0 + r - top) * W + s0 + c - left;
              dst.set(src.subarray(from, from + (o1 - o0 - 1) * OW + s1 - s0), d0 + o0 * OW + s0);
            }
            for (let oh = o0; oh < o1; oh++) {
              const row = d0 + oh * OW;
              for (let i = row; i < row + s0; i++) dst[i] = 0; // a column or two: cheaper than fill() calls
              for (let i = row + s1; i < row + OW; i++) dst[i] = 0;
              if (oneRun) continue;
              const from = image + (oh * sh + r - top) * W + c - left;
              if (sw === 1) dst.set(src.subarray(from + s0, from + s1), row + s0);
              else for (let ow = s0; ow < s1; ow++) dst[row + ow] = src[from + ow * sw];
            }
          }
        }
      }
    }
    simdGemm(k, heapOffset(backend, patches), M, heapOffset(backend, dy) + 4 * n0 * pix * Co, Co, heapOffset(backend, out), Co, P, Co, M);
  }
  dispose(backend, xc, patches);
  return out;
}

/**
 * [rows, cols] -> [cols, rows] in 32 x 32 tiles, writing runs of each output row (the stock wasm Transpose is
 * several times slower here).
 */
function transpose2D(backend: BackendWasm, x: Info, rows: number, cols: number): Info {
  const out = backend.makeOutput([cols, rows], 'float32');
  const s = backend.typedArrayFromHeap(x) as Float32Array;
  const d = backend.typedArrayFromHeap(out) as Float32Array;
  const tile = 32;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(rows, i0 + tile);
    for (let j0 = 0; j0 < cols; j0 += tile) {
      const j1 = Math.min(cols, j0 + tile);
      for (let j = j0; j < j1; j++) {
        const to = j * rows;
        for (let i = i0; i < i1; i++) d[to + i] = s[i * cols + j];
      }
    }
  }
  return out;
}

/** Size of B (k x n) from which a matrix product runs on the SIMD tiles instead of XNNPACK. */
const SIMD_MATMUL_MIN_B = 16384;

function makeBatchMatMul(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const batchA = a.shape.slice(0, -2).reduce((p, d) => p * d, 1);
    const batchB = b.shape.slice(0, -2).reduce((p, d) => p * d, 1);
    if (batchA !== 1 || batchB !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args) as Info;
    const [a0, a1] = a.shape.slice(-2);
    const [b0, b1] = b.shape.slice(-2);
    const [m, k] = transposeA ? [a1, a0] : [a0, a1];
    const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
    if (k !== kb) throw new Error(`matMul: inner shapes ${k} and ${kb} of tensors with shapes ${a.shape} and ${b.shape} do not match`);
    if (transposeB && !transposeA && m * k < k * n) {
      // C = A x B^T with B the larger operand: compute C^T = B x A^T so that XNNPACK packs the small A^T.
      const aT = transpose2D(backend, a, m, k);
      const cT = gemm(backend, b, aT, n, k, m);
      const out = transpose2D(backend, cT, n, m);
      dispose(backend, aT, cT);
      const rank = Math.max(a.shape.length, b.shape.length);
      out.shape = [...new Array<number>(rank - 2).fill(1), m, n];
      return out;
    }
    // XNNPACK repacks B on every call: cheap for a small B, dominant for a large fresh one (a dense layer's weights).
    // The SIMD tiles read A in place, transposed or not (a dense layer's weight gradient is x^T dy).
    const simd = n % 4 === 0 && !transposeB && (k * n >= SIMD_MATMUL_MIN_B || transposeA) ? simdKernels(backend) : null;
    if (simd) {
      const out = backend.makeOutput([m, n], 'float32');
      (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
      const [lda, aStep] = transposeA ? [1, m] : [k, 1];
      simdGemm(simd, heapOffset(backend, a), lda, heapOffset(backend, b), n, heapOffset(backend, out), n, m, n, k, aStep);
      const rank = Math.max(a.shape.length, b.shape.length);
      out.shape = [...new Array<number>(rank - 2).fill(1), m, n];
      return out;
    }
    const a2 = transposeA ? transpose2D(backend, a, a0, a1) : a;
    const b2 = transposeB ? transpose2D(backend, b, b0, b1) : b;
    const out = gemm(backend, a2, b2, m, k, n);
    if (a2 !== a) dispose(backend, a2);
    if (b2 !== b) dispose(backend, b2);
    const rank = Math.max(a.shape.length, b.shape.length);
    out.shape = [...new Array<number>(rank - 2).fill(1), m, n];
    return out;
  };
}

/** Insert (stride - 1) zeros between the rows and columns of dy. */
function dilateSpatially(backend: BackendWasm, dy: Info, sh: number, sw: number): Info {
  const [n, oh, ow, c] = dy.shape;
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  const out = backend.makeOutput([n, dh, dw, c], 'float32');
  const src = backend.typedArrayFromHeap(dy) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const from = ((b * oh + i) * ow + j) * c;
        dst.set(src.subarray(from, from + c), ((b * dh + i * sh) * dw + j * sw) * c);
      }
    }
  }
  return out;
}

/** filter [fh, fw, Ci, Co] -> flipped in space and transposed to [fh, fw, Co, Ci]. */
function flipFilter(backend: BackendWasm, filter: Info): Info {
  const [fh, fw, ci, co] = filter.shape;
  const out = backend.makeOutput([fh, fw, co, ci], 'float32');
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const s = ((fh - 1 - i) * fw + (fw - 1 - j)) * ci * co;
      const d = (i * fw + j) * co * ci;
      for (let a = 0; a < ci; a++) for (let o = 0; o < co; o++) dst[d + o * ci + a] = src[s + a * co + o];
    }
  }
  return out;
}

function makeConv2DBackpropInput(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const backend = args.backend as BackendWasm;
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const attrs = args.attrs as unknown as { strides: number | [number, number]; pad: unknown; dimRoundingMode?: unknown; dataFormat?: unknown; inputShape: number[] };
    const info = convInfoOf(attrs.inputShape, filter.shape, attrs);
    const [, H, W] = attrs.inputShape;
    const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    const padTop = fh - 1 - top;
    const padLeft = fw - 1 - left;
    const dh = (dy.shape[1] - 1) * sh + 1;
    const dw = (dy.shape[2] - 1) * sw + 1;
    const padBottom = H + fh - 1 - dh - padTop;
    const padRight = W + fw - 1 - dw - padLeft;
    if (Math.min(padTop, padLeft, padBottom, padRight) < 0) return fallback(args) as Info;
    const dyD = sh === 1 && sw === 1 ? dy : dilateSpatially(backend, dy, sh, sw);
    const flipped = flipFilter(backend, filter);
    const dx = conv(backend, dyD, flipped, [1, 1], [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]]);
    dispose(backend, flipped);
    if (dyD !== dy) dispose(backend, dyD);
    return dx;
  };
}

/** Max-pool gradient: route each output gradient to the first maximum of its window (as the cpu backend does). */
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const attrs = args.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  const twoByTwo = fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && 2 * OH <= H && 2 * OW <= W;
  const k = twoByTwo && C % 4 === 0 ? simdKernels(backend) : null;
  if (k) {
    // Every covered input position is written; only an odd last row or column needs zeros.
    if (2 * OH < H || 2 * OW < W) out.fill(0);
    const xBase = heapOffset(backend, input);
    const gBase = heapOffset(backend, dy);
    const oBase = heapOffset(backend, dx);
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < OH; i++) {
        const inRow = 4 * ((b * H + 2 * i) * W * C);
        k.maxPoolGrad2x2Row(xBase + inRow, gBase + 4 * ((b * OH + i) * OW * C), oBase + inRow, OW, C >> 2, 4 * C, 4 * W * C);
      }
    }
    return dx;
  }
  out.fill(0);
  if (twoByTwo) {
    maxPoolGrad2x2(x, g, out, N, H, W, C, OH, OW);
    return dx;
  }
  const maxV = new Float32Array(C);
  const maxI = new Int32Array(C);
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < OH; i++) {
      const h0 = i * sh - top;
      for (let j = 0; j < OW; j++) {
        const w0 = j * sw - left;
        maxV.fill(-Infinity);
        maxI.fill(-1);
        for (let r = 0; r < fh; r++) {
          const h = h0 + r;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < fw; s++) {
            const w = w0 + s;
            if (w < 0 || w >= W) continue;
            const base = ((b * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > maxV[c]) {
                maxV[c] = v;
                maxI[c] = base + c;
              }
            }
          }
        }
        const gBase = ((b * OH + i) * OW + j) * C;
        for (let c = 0; c < C; c++) if (maxI[c] >= 0) out[maxI[c]] += g[gBase + c];
      }
    }
  }
  return dx;
}

/** The common 2x2, stride 2, unpadded case: windows do not overlap, so each gradient lands in one place. */
function maxPoolGrad2x2(x: Float32Array, g: Float32Array, out: Float32Array, N: number, H: number, W: number, C: number, OH: number, OW: number): void {
  const rowStride = W * C;
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < OH; i++) {
      for (let j = 0; j < OW; j++) {
        const p00 = ((b * H + 2 * i) * W + 2 * j) * C;
        const p01 = p00 + C;
        const p10 = p00 + rowStride;
        const p11 = p10 + C;
        const gBase = ((b * OH + i) * OW + j) * C;
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let at = -1;
          const v00 = x[p00 + c];
          if (v00 > best) { best = v00; at = p00 + c; }
          const v01 = x[p01 + c];
          if (v01 > best) { best = v01; at = p01 + c; }
          const v10 = x[p10 + c];
          if (v10 > best) { best = v10; at = p10 + c; }
          if (x[p11 + c] > best) at = p11 + c;
          if (at < 0) continue; // all NaN or -Infinity: like the cpu backend, route nothing
          out[at] = g[gBase + c];
        }
      }
    }
  }
}

/**
 * Sum over all leading axes of a tensor, keeping the last (a bias gradient). The stock wasm Sum transposes
 * the reduced axes to the end first, a full copy of the activation.
 */
const SUM_RUN = 256;

function makeSum(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return fallback(args) as Info;
    const C = x.shape[rank - 1];
    const rows = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
    const out = backend.makeOutput(keepDims ? [...new Array<number>(rank - 1).fill(1), C] : [C], 'float32');
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const acc = new Float64Array(C);
    const k = C % 4 === 0 ? simdKernels(backend) : null;
    if (k) {
      // Float32 partial sums over short runs of rows, added up in float64 here.
      const part = backend.makeOutput([C], 'float32');
      const partOffset = heapOffset(backend, part);
      const xOffset = heapOffset(backend, x);
      for (let r0 = 0; r0 < rows; r0 += SUM_RUN) {
        const run = Math.min(SUM_RUN, rows - r0);
        const pv = backend.typedArrayFromHeap(part) as Float32Array;
        pv.fill(0);
        for (let j = 0; j < C; j += 16) k.colsum[Math.min(4, (C - j) >> 2) - 1](xOffset + 4 * (r0 * C + j), 4 * C, partOffset + 4 * j, run);
        const sums = backend.typedArrayFromHeap(part) as Float32Array;
        for (let c = 0; c < C; c++) acc[c] += sums[c];
      }
      dispose(backend, part);
    } else {
      for (let r = 0; r < rows; r++) {
        const base = r * C;
        for (let c = 0; c < C; c++) acc[c] += src[base + c];
      }
    }
    (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
    return out;
  };
}

/**
 * Identity and a same-type Cast share the input's buffer (as the cpu backend does) instead of copying it: the
 * engine clones every tensor it saves for the backward pass, several full activations per training step.
 * Tensors are immutable and no kernel here writes into its inputs.
 */
function aliasInput(args: { inputs: tf.NamedTensorInfoMap; backend: {} }): Info {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: Info };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function makeCast(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const { x } = args.inputs as { x: Info };
    if ((args.attrs as { dtype?: string } | undefined)?.dtype === x.dtype && x.dtype !== 'string') return aliasInput(args);
    return fallback(args) as Info;
  };
}

function makeIdentity(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const { x } = args.inputs as { x: Info };
    return x.dtype === 'string' ? (fallback(args) as Info) : aliasInput(args);
  };
}

/** x[..., C] + bias[C] (a layer's bias, added apart from its conv while training) on SIMD; else the stock Add. */
function makeAdd(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): Info => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: Info; b: Info };
    const C = b.shape.length === 1 ? b.shape[0] : 0;
    const fits = a.dtype === 'float32' && b.dtype === 'float32' && a.shape.length >= 2 && C > 0 && C % 4 === 0 && a.shape[a.shape.length - 1] === C;
    const k = fits ? simdKernels(backend) : null;
    if (!k) return fallback(args) as Info;
    const out = backend.makeOutput(a.shape, 'float32');
    const rows = a.shape.slice(0, -1).reduce((p, d) => p * d, 1);
    k.biasAdd(heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out), rows, C >> 2);
    return out;
  };
}

let registered = false;

function replaceKernel(config: tf.KernelConfig): tf.KernelConfig | undefined {
  const previous = tf.getKernel(config.kernelName, 'wasm');
  if (previous) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, setupFunc: previous?.setupFunc ?? config.setupFunc });
  return previous;
}

/**
 * Register the training kernels for the wasm backend (idempotent). Call before or after `tf.setBackend('wasm')`;
 * replaced kernels keep their setup functions, which bind the C functions the stock kernels use.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  replaceKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter });
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const fallback: tf.KernelFunc = stockInput
    ? stockInput.kernelFunc
    : () => {
        throw new Error('Conv2DBackpropInput: padding larger than the filter is not supported on wasm');
      };
  replaceKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: makeConv2DBackpropInput(fallback) });
  replaceKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad });
  const stockSum = tf.getKernel('Sum', 'wasm');
  if (stockSum) replaceKernel({ kernelName: 'Sum', backendName: 'wasm', kernelFunc: makeSum(stockSum.kernelFunc) });
  const stockAdd = tf.getKernel('Add', 'wasm');
  if (stockAdd) replaceKernel({ kernelName: 'Add', backendName: 'wasm', kernelFunc: makeAdd(stockAdd.kernelFunc) });
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  if (stockIdentity) replaceKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: makeIdentity(stockIdentity.kernelFunc) });
  const stockCast = tf.getKernel('Cast', 'wasm');
  if (stockCast) replaceKernel({ kernelName: 'Cast', backendName: 'wasm', kernelFunc: makeCast(stockCast.kernelFunc) });
  const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (stockMatMul) {
    replaceKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: makeBatchMatMul(stockMatMul.kernelFunc) });
  }
}
