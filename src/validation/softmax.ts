import seedrandom from 'seedrandom';
import type { Progress } from '../progress/index.js';

/**
 * Multinomial logistic regression in plain TypeScript: standardised features, L2 penalty, mini-batch Adam.
 * Small and dependency-free on purpose: it is fitted k times per validation on a few hundred features.
 */
export interface SoftmaxModel {
  d: number;
  k: number;
  mean: Float64Array;
  std: Float64Array;
  /** k x (d + 1) weights, class-major; the last weight of each class is its bias. */
  w: Float64Array;
}

export interface SoftmaxOptions {
  epochs: number;
  l2: number;
  learningRate?: number;
  batchSize?: number;
  seed?: string;
}

function standardise(x: Float64Array, n: number, d: number, mean: Float64Array, std: Float64Array): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j] - mean[j]) / std[j];
  return out;
}

/** Class probabilities of one standardised row into `out` (length k). */
function forward(w: Float64Array, xs: Float64Array, row: number, d: number, k: number, out: Float64Array): void {
  const stride = d + 1;
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    const base = c * stride;
    let z = w[base + d];
    for (let j = 0; j < d; j++) z += xs[row + j] * w[base + j];
    out[c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < k; c++) sum += out[c] = Math.exp(out[c] - max);
  for (let c = 0; c < k; c++) out[c] /= sum;
}

export function fitSoftmax(x: Float64Array, y: Int32Array, n: number, d: number, k: number, opts: SoftmaxOptions): SoftmaxModel {
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(1, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (x[i * d + j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / Math.max(1, n)) || 1;
  const xs = standardise(x, n, d, mean, std);
  const stride = d + 1;
  const w = new Float64Array(k * stride);
  const m = new Float64Array(w.length), v = new Float64Array(w.length), grad = new Float64Array(w.length);
  const p = new Float64Array(k);
  const lr = opts.learningRate ?? 0.01;
  const batch = Math.max(1, Math.min(n, opts.batchSize ?? 64));
  const b1 = 0.9, b2 = 0.999;
  const rng = seedrandom(opts.seed ?? 'softmax');
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (let start = 0; start < n; start += batch) {
      const end = Math.min(n, start + batch);
      grad.fill(0);
      for (let b = start; b < end; b++) {
        const i = order[b], row = i * d;
        forward(w, xs, row, d, k, p);
        p[y[i]] -= 1;
        for (let c = 0; c < k; c++) {
          const e = p[c], base = c * stride;
          for (let j = 0; j < d; j++) grad[base + j] += e * xs[row + j];
          grad[base + d] += e;
        }
      }
      step++;
      const scale = 1 / (end - start);
      const c1 = 1 - b1 ** step, c2 = 1 - b2 ** step;
      for (let q = 0; q < w.length; q++) {
        const g = grad[q] * scale + (q % stride === d ? 0 : opts.l2 * w[q]);
        m[q] = b1 * m[q] + (1 - b1) * g;
        v[q] = b2 * v[q] + (1 - b2) * g * g;
        w[q] -= (lr * (m[q] / c1)) / (Math.sqrt(v[q] / c2) + 1e-8);
      }
    }
  }
  return { d, k, mean, std, w };
}

/** Class probabilities, n x k. */
export function predictSoftmax(model: SoftmaxModel, x: Float64Array, n: number): Float64Array {
  const { d, k, w } = model;
  const xs = standardise(x, n, d, model.mean, model.std);
  const out = new Float64Array(n * k);
  const p = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    forward(w, xs, i * d, d, k, p);
    out.set(p, i * k);
  }
  return out;
}

/** Out-of-fold probabilities: every row is predicted by a model that never saw it. */
export function crossValidatedProbabilities(
  x: Float64Array, y: Int32Array, n: number, d: number, k: number, fold: readonly number[], folds: number, opts: SoftmaxOptions,
  onFold?: Progress,
): Float64Array {
  const probs = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    const tr: number[] = [], te: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? te : tr).push(i);
    if (te.length === 0) continue;
    const pick = (idx: number[]) => {
      const out = new Float64Array(idx.length * d);
      idx.forEach((i, r) => out.set(x.subarray(i * d, (i + 1) * d), r * d));
      return out;
    };
    const model = fitSoftmax(pick(tr), Int32Array.from(tr.map((i) => y[i])), tr.length, d, k, { ...opts, seed: `${opts.seed ?? 'softmax'}:${f}` });
    const p = predictSoftmax(model, pick(te), te.length);
    te.forEach((i, r) => probs.set(p.subarray(r * k, (r + 1) * k), i * k));
    onFold?.(f + 1, folds);
  }
  return probs;
}
