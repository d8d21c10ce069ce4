import type * as tf from '../tfjs/index.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assemble, op, type WasmFunction } from './wasm-simd-assembler.js';

/*
 * A small WebAssembly SIMD module of our own, working in place on the wasm backend's memory (it imports the
 * backend's exported WebAssembly.Memory, so tensors are addressed by their heap offsets: no copies). XNNPACK's
 * GEMM must repack its right-hand operand on every call, which dominates when that operand is a fresh
 * activation gradient with a long reduction; these register-tiled loops read both operands in place.
 * The bytecode is generated below with the few lines of assembler in wasm-simd-assembler.ts; every loop is
 * tested against the cpu backend.
 */

/** An environment variable, or undefined where there is no process (a browser). */
export function envSetting(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env?.[name];
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

type I32Fn = (...args: number[]) => void;
export interface SimdKernels {
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
export function simdKernels(backend: BackendWasm): SimdKernels | null {
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
export function heapOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  return (backend.dataIdMap.get(info.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/**
 * C[m, n] += A[m, k] x B[k, n] on the SIMD tiles (n a multiple of 4); pointers are byte offsets, strides in floats.
 * A's element (i, k) is at a + i*lda + k*aStep: aStep 1 for row-major A, or lda 1 and aStep m to read A^T.
 */
export function simdGemm(
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
