import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Training kernels for the wasm backend. The stock wasm backend has no Conv2DBackpropFilter (so a CNN cannot
 * train) and slow Conv2DBackpropInput / MaxPoolGrad kernels.
 *  - filter gradient: patches of the input (im2col, [fh*fw*Ci, chunk of output pixels]) times the output
 *    gradient, reduced chunk by chunk on our own register-tiled WebAssembly SIMD loops (below); XNNPACK's GEMM
 *    is the fallback (it repacks the long output-gradient operand on every call, which made it slow here);
 *  - input gradient: XNNPACK conv of the (stride-dilated) output gradient with the spatially flipped filter
 *    transposed to [fh, fw, Co, Ci], padded by (filter - 1 - pad);
 *  - MaxPoolGrad (2x2/2 on SIMD), the bias-gradient Sum and large-operand BatchMatMul on the SIMD loops too;
 *    Identity and same-type Cast share buffers instead of copying. All match the cpu backend (tests).
 */

type Info = tf.TensorInfo;

/** An environment variable, or undefined where there is no process (a browser). */
function envSetting(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env?.[name];
}
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

/*
 * A small WebAssembly SIMD module of our own, working in place on the wasm backend's memory (it imports the
 * backend's exported WebAssembly.Memory, so tensors are addressed by their heap offsets: no copies). XNNPACK's
 * GEMM must repack its right-hand operand on every call, which dominates when that operand is a fresh
 * activation gradient with a long reduction; these register-tiled loops read both operands in place.
 * The bytecode is generated below by a few lines of assembler; every loop is tested against the cpu backend.
 */

const I32 = 0x7f;
const V128 = 0x7b;
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  eqz: [0x45],
  blockLoop: [0x02, 0x40, 0x03, 0x40],
  exitIfZero: (i: number) => [0x20, ...uleb(i), 0x45, 0x0d, 1],
  endBlockLoop: [0x0c, 0, 0x0b, 0x0b],
  load: (offset: number) => [0xfd, 0x00, 2, ...uleb(offset)],
  loadSplat: (offset: number) => [0xfd, 0x09, 2, ...uleb(offset)],
  store: (offset: number) => [0xfd, 0x0b, 2, ...uleb(offset)],
  fadd: [0xfd, 0xe4, 0x01],
  fmul: [0xfd, 0xe6, 0x01],
  fgt: [0xfd, 0x44],
  and: [0xfd, 0x4e],
  andnot: [0xfd, 0x4f],
  bitselect: [0xfd, 0x52],
  negInf: [0xfd, 0x0c, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff, 0, 0, 0x80, 0xff],
  /** local += step (i32) */
  bump: (i: number, step: number) => [0x20, ...uleb(i), 0x41, ...sleb(step), 0x6a, 0x21, ...uleb(i)],
  bumpBy: (i: number, by: number) => [0x20, ...uleb(i), 0x20, ...uleb(by), 0x6a, 0x21, ...uleb(i)],
};

interface WasmFunction {
  name: string;
  params: number;
  i32Locals: number;
  v128Locals: number;
  body: number[];
}

/**
 * gemm{mr}x{nv}(a, lda, aStep, b, ldb, c, ldc, k): C[mr, 4nv] += A[mr, k] x B[k, 4nv]; A's element (i, k) at
 * a + i*lda + k*aStep (so A may be read transposed), B and C row-major; strides in bytes. Accumulators stay in
 * registers for the whole reduction.
 */
function gemmTile(mr: number, nv: number): WasmFunction {
  const [A, LDA, ASTEP, B, LDB, C, LDC, K] = [0, 1, 2, 3, 4, 5, 6, 7];
  const aRow = Array.from({ length: mr }, (_, r) => 8 + r);
  const cRow = Array.from({ length: mr }, (_, r) => 8 + mr + r);
  const v0 = 8 + 2 * mr;
  const acc = (r: number, j: number) => v0 + r * nv + j;
  const bv = (j: number) => v0 + mr * nv + j;
  const av = v0 + mr * nv + nv;
  const body: number[] = [];
  for (let r = 0; r < mr; r++) {
    body.push(...op.get(A), ...op.get(LDA), ...op.i32(r), ...op.mul, ...op.add, ...op.set(aRow[r]));
    body.push(...op.get(C), ...op.get(LDC), ...op.i32(r), ...op.mul, ...op.add, ...op.set(cRow[r]));
    for (let j = 0; j < nv; j++) body.push(...op.get(cRow[r]), ...op.load(16 * j), ...op.set(acc(r, j)));
  }
  body.push(...op.blockLoop, ...op.exitIfZero(K));
  for (let j = 0; j < nv; j++) body.push(...op.get(B), ...op.load(16 * j), ...op.set(bv(j)));
  for (let r = 0; r < mr; r++) {
    body.push(...op.get(aRow[r]), ...op.loadSplat(0), ...op.set(av));
    for (let j = 0; j < nv; j++) {
      body.push(...op.get(acc(r, j)), ...op.get(av), ...op.get(bv(j)), ...op.fmul, ...op.fadd, ...op.set(acc(r, j)));
    }
    body.push(...op.bumpBy(aRow[r], ASTEP));
  }
  body.push(...op.bumpBy(B, LDB), ...op.bump(K, -1), ...op.endBlockLoop);
  for (let r = 0; r < mr; r++) for (let j = 0; j < nv; j++) body.push(...op.get(cRow[r]), ...op.get(acc(r, j)), ...op.store(16 * j));
  return { name: `gemm${mr}x${nv}`, params: 8, i32Locals: 2 * mr, v128Locals: mr * nv + nv + 1, body };
}

/** colsum{nv}(x, ldx, c, k): c[4nv] += sum over k rows of x[row, 0:4nv]. */
function columnSum(nv: number): WasmFunction {
  const [X, LDX, C, K] = [0, 1, 2, 3];
  const acc = (j: number) => 4 + j;
  const body: number[] = [];
  for (let j = 0; j < nv; j++) body.push(...op.get(C), ...op.load(16 * j), ...op.set(acc(j)));
  body.push(...op.blockLoop, ...op.exitIfZero(K));
  for (let j = 0; j < nv; j++) body.push(...op.get(acc(j)), ...op.get(X), ...op.load(16 * j), ...op.fadd, ...op.set(acc(j)));
  body.push(...op.bumpBy(X, LDX), ...op.bump(K, -1), ...op.endBlockLoop);
  for (let j = 0; j < nv; j++) body.push(...op.get(C), ...op.get(acc(j)), ...op.store(16 * j));
  return { name: `colsum${nv}`, params: 4, i32Locals: 0, v128Locals: nv, body };
}

/**
 * maxPoolGrad2x2Row(x, g, out, ow, c4, cBytes, rowBytes): one output row of a 2x2 stride-2 max-pool gradient,
 * four channels at a time. Each window's gradient goes to its first strict maximum (scanning row by row, as
 * the cpu backend does); windows of NaN or -Infinity route nothing. Writes all four input positions.
 */
function maxPoolGrad2x2Row(): WasmFunction {
  const [X, G, OUT, OW, C4, CB, RB] = [0, 1, 2, 3, 4, 5, 6];
  const [n, p00, o00] = [7, 8, 9];
  const [v00, v01, v10, v11, gv, best, m1, m2, m3, w0] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const body: number[] = [];
  const at = (base: number, extra: number[]) => [...op.get(base), ...extra];
  body.push(...op.blockLoop, ...op.exitIfZero(OW));
  body.push(...op.get(C4), ...op.set(n), ...op.get(X), ...op.set(p00), ...op.get(OUT), ...op.set(o00));
  body.push(...op.blockLoop, ...op.exitIfZero(n));
  body.push(...at(p00, op.load(0)), ...op.set(v00));
  body.push(...at(p00, [...op.get(CB), ...op.add, ...op.load(0)]), ...op.set(v01));
  body.push(...at(p00, [...op.get(RB), ...op.add, ...op.load(0)]), ...op.set(v10));
  body.push(...at(p00, [...op.get(RB), ...op.add, ...op.get(CB), ...op.add, ...op.load(0)]), ...op.set(v11));
  body.push(...op.get(G), ...op.load(0), ...op.set(gv));
  // w0 = v00 > -inf; best = w0 ? v00 : -inf
  body.push(...op.get(v00), ...op.negInf, ...op.fgt, ...op.set(w0));
  body.push(...op.get(v00), ...op.negInf, ...op.get(w0), ...op.bitselect, ...op.set(best));
  // m1 = v01 > best; best = m1 ? v01 : best (and likewise m2, m3)
  for (const [v, m] of [[v01, m1], [v10, m2], [v11, m3]]) {
    body.push(...op.get(v), ...op.get(best), ...op.fgt, ...op.set(m));
    body.push(...op.get(v), ...op.get(best), ...op.get(m), ...op.bitselect, ...op.set(best));
  }
  // winners: w3 = m3, w2 = m2 & ~m3, w1 = m1 & ~m2 & ~m3, w0 = w0 & ~m1 & ~m2 & ~m3
  body.push(...op.get(m2), ...op.get(m3), ...op.andnot, ...op.set(m2));
  body.push(...op.get(m1), ...op.get(m3), ...op.andnot, ...op.get(m2), ...op.andnot, ...op.set(m1));
  body.push(...op.get(w0), ...op.get(m3), ...op.andnot, ...op.get(m2), ...op.andnot, ...op.get(m1), ...op.andnot, ...op.set(w0));
  const put = (offset: number[], mask: number) => {
    body.push(...op.get(o00), ...offset, ...op.get(gv), ...op.get(mask), ...op.and, ...op.store(0));
  };
  put([], w0);
  put([...op.get(CB), ...op.add], m1);
  put([...op.get(RB), ...op.add], m2);
  put([...op.get(RB), ...op.add, ...op.get(CB), ...op.add], m3);
  body.push(...op.bump(p00, 16), ...op.bump(o00, 16), ...op.bump(G, 16), ...op.bump(n, -1), ...op.endBlockLoop);
  // next window: two input columns to the right
  body.push(...op.get(X), ...op.get(CB), ...op.add, ...op.get(CB), ...op.add, ...op.set(X));
  body.push(...op.get(OUT), ...op.get(CB), ...op.add, ...op.get(CB), ...op.add, ...op.set(OUT));
  body.push(...op.bump(OW, -1), ...op.endBlockLoop);
  return { name: 'maxPoolGrad2x2Row', params: 7, i32Locals: 3, v128Locals: 10, body };
}

/** biasAdd(x, bias, out, rows, c4): out[row, :] = x[row, :] + bias for rows of 4*c4 floats. */
function biasAdd(): WasmFunction {
  const [X, BIAS, OUT, ROWS, C4] = [0, 1, 2, 3, 4];
  const [n, bp] = [5, 6];
  const body: number[] = [];
  body.push(...op.blockLoop, ...op.exitIfZero(ROWS));
  body.push(...op.get(C4), ...op.set(n), ...op.get(BIAS), ...op.set(bp));
  body.push(...op.blockLoop, ...op.exitIfZero(n));
  body.push(...op.get(OUT), ...op.get(X), ...op.load(0), ...op.get(bp), ...op.load(0), ...op.fadd, ...op.store(0));
  body.push(...op.bump(X, 16), ...op.bump(OUT, 16), ...op.bump(bp, 16), ...op.bump(n, -1), ...op.endBlockLoop);
  body.push(...op.bump(ROWS, -1), ...op.endBlockLoop);
  return { name: 'biasAdd', params: 5, i32Locals: 2, v128Locals: 0, body };
}

function assemble(functions: WasmFunction[]) {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => {
    const bytes = Array.from(s, (ch) => ch.charCodeAt(0));
    return [...uleb(bytes.length), ...bytes];
  };
  const arities = [...new Set(functions.map((f) => f.params))];
  const types = arities.flatMap((n) => [0x60, ...uleb(n), ...new Array(n).fill(I32), 0]);
  const code = functions.flatMap((f) => {
    const fn = [2, ...uleb(f.i32Locals), I32, ...uleb(f.v128Locals), V128, ...f.body, 0x0b];
    return [...uleb(fn.length), ...fn];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [...uleb(arities.length), ...types]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [...uleb(functions.length), ...functions.map((f) => arities.indexOf(f.params))]),
    ...section(7, [...uleb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(functions.length), ...code]),
  ]);
}

type I32Fn = (...args: number[]) => void;
interface SimdKernels {
  gemm: I32Fn[][]; // [mr - 1][nv - 1]
  colsum: I32Fn[]; // [nv - 1]
  maxPoolGrad2x2Row: I32Fn;
  biasAdd: I32Fn;
}

/**
 * The few WebAssembly APIs used here, typed locally: tslab compiles notebook cells without the DOM/WebAssembly
 * type libraries, so the global's own types are not available to everything that imports src/.
 */
interface WasmApi {
  Memory: new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let simdMemory: object | undefined;
let simd: SimdKernels | null | undefined;

/** The SIMD kernels bound to this backend's memory, or null where WebAssembly SIMD or the memory is unavailable. */
function simdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof wasmApi.Memory) || envSetting('AREYOUACAT_WASM_SIMD_KERNELS') === '0') return null;
  if (simd !== undefined && simdMemory === memory) return simd;
  simdMemory = memory;
  try {
    const functions = [
      ...[1, 2].flatMap((mr) => [1, 2, 3, 4].map((nv) => gemmTile(mr, nv))),
      ...[1, 2, 3, 4].map((nv) => columnSum(nv)),
      maxPoolGrad2x2Row(),
      biasAdd(),
    ];
    const instance = new wasmApi.Instance(new wasmApi.Module(assemble(functions)), { env: { memory } });
    const f = instance.exports as unknown as Record<string, I32Fn>;
    simd = {
      gemm: [1, 2].map((mr) => [1, 2, 3, 4].map((nv) => f[`gemm${mr}x${nv}`])),
      colsum: [1, 2, 3, 4].map((nv) => f[`colsum${nv}`]),
      maxPoolGrad2x2Row: f.maxPoolGrad2x2Row,
      biasAdd: f.biasAdd,
    };
  } catch {
    simd = null;
  }
  return simd;
}

/** Byte offset of a tensor's data in the wasm heap. */
function heapOffset(backend: BackendWasm, info: Info): number {
  return (backend.dataIdMap.get(info.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/**
 * C[m, n] += A[m, k] x B[k, n] on the SIMD tiles (n a multiple of 4); pointers are byte offsets, strides in floats.
 * A's element (i, k) is at a + i*lda + k*aStep: aStep 1 for row-major A, or lda 1 and aStep m to read A^T.
 */
function simdGemm(
  k: SimdKernels, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, m: number, n: number, depth: number, aStep = 1,
): void {
  for (let i = 0; i < m; i += 2) {
    const mr = Math.min(2, m - i);
    for (let j = 0; j < n; j += 16) {
      const nv = Math.min(4, (n - j) >> 2);
      k.gemm[mr - 1][nv - 1](a + 4 * i * lda, 4 * lda, 4 * aStep, b + 4 * j, 4 * ldb, c + 4 * (i * ldc + j), 4 * ldc, depth);
    }
  }
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
      out.shape = [...new Array(rank - 2).fill(1), m, n];
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
      out.shape = [...new Array(rank - 2).fill(1), m, n];
      return out;
    }
    const a2 = transposeA ? transpose2D(backend, a, a0, a1) : a;
    const b2 = transposeB ? transpose2D(backend, b, b0, b1) : b;
    const out = gemm(backend, a2, b2, m, k, n);
    if (a2 !== a) dispose(backend, a2);
    if (b2 !== b) dispose(backend, b2);
    const rank = Math.max(a.shape.length, b.shape.length);
    out.shape = [...new Array(rank - 2).fill(1), m, n];
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
    const out = backend.makeOutput(keepDims ? [...new Array(rank - 1).fill(1), C] : [C], 'float32');
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
  replaceKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as tf.KernelFunc });
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const fallback: tf.KernelFunc = stockInput
    ? stockInput.kernelFunc
    : () => {
        throw new Error('Conv2DBackpropInput: padding larger than the filter is not supported on wasm');
      };
  replaceKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: makeConv2DBackpropInput(fallback) as tf.KernelFunc });
  replaceKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad as tf.KernelFunc });
  const stockSum = tf.getKernel('Sum', 'wasm');
  if (stockSum) replaceKernel({ kernelName: 'Sum', backendName: 'wasm', kernelFunc: makeSum(stockSum.kernelFunc) as tf.KernelFunc });
  const stockAdd = tf.getKernel('Add', 'wasm');
  if (stockAdd) replaceKernel({ kernelName: 'Add', backendName: 'wasm', kernelFunc: makeAdd(stockAdd.kernelFunc) as tf.KernelFunc });
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  if (stockIdentity) replaceKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: makeIdentity(stockIdentity.kernelFunc) as tf.KernelFunc });
  const stockCast = tf.getKernel('Cast', 'wasm');
  if (stockCast) replaceKernel({ kernelName: 'Cast', backendName: 'wasm', kernelFunc: makeCast(stockCast.kernelFunc) as tf.KernelFunc });
  const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (stockMatMul) {
    replaceKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: makeBatchMatMul(stockMatMul.kernelFunc) as tf.KernelFunc });
  }
}
