/**
 * Training and inference speed of the reference CNN (3 conv blocks of 16/32/64 3x3 filters, max-pool, dense 64,
 * 64x64x3 input, batch 32) on this engine's backend, against the stock pure-JS cpu backend measured in the same
 * run (on a few small batches only: it is slow). Prints one JSON object. The machine may be shared: wall-clock
 * numbers are noisy, so per-CPU-second figures of this process are reported too. Training steps and forward
 * passes are timed in turns, so the step/forward ratio sees the same load; the forward pass is measured both
 * through predict() and through apply() (without predict's batching), and the acceptance uses the larger ratio.
 */
import os from 'node:os';
import * as tf from '../src/tfjs/index.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS, selectBackend, trainStep as engineTrainStep } from '../src/model/index.js';

const hp = REFERENCE_HYPERPARAMETERS;
const steps = Number(process.env.BENCH_TRAIN_STEPS ?? 12);
const cpuTrainBatch = Number(process.env.BENCH_CPU_TRAIN_BATCH ?? 4);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function batch(n: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform<tf.Rank.R4>([n, hp.imageSize, hp.imageSize, 3], 0, 1, 'float32', 1),
    y: tf.randomUniform([n, 1], 0, 1, 'float32', 2).round() as tf.Tensor2D,
  }));
}

interface Timing {
  wallMs: number[];
  cpuMs: number[];
}

async function timeOnce(f: () => Promise<void>, into: Timing): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  into.wallMs.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  into.cpuMs.push((c.user + c.system) / 1000);
}

async function time(reps: number, f: () => Promise<void>): Promise<Timing> {
  const timing: Timing = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < reps; i++) await timeOnce(f, timing);
  return timing;
}

/** Time several functions in turns (a, b, c, a, b, c, ...) so that a change of machine load hits all alike. */
async function timeInTurns(reps: number, fs: Array<() => Promise<void>>): Promise<Timing[]> {
  const timings = fs.map((): Timing => ({ wallMs: [], cpuMs: [] }));
  for (let i = 0; i < reps; i++) for (let j = 0; j < fs.length; j++) await timeOnce(fs[j], timings[j]);
  return timings;
}

/** The training loop's own step (weighted BCE through optimizer.minimize), synchronised on the loss. */
async function trainStep(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor2D): Promise<void> {
  const { cost, probs } = engineTrainStep(model, model.optimizer, x, y);
  await cost.data();
  tf.dispose([cost, probs]);
}

async function forward(model: tf.LayersModel, x: tf.Tensor): Promise<void> {
  const p = model.predict(x) as tf.Tensor;
  await p.data();
  p.dispose();
}

/** The forward pass alone, without predict()'s batching (which copies the input batch with a Slice). */
async function forwardApply(model: tf.LayersModel, x: tf.Tensor): Promise<void> {
  const p = model.apply(x, { training: false }) as tf.Tensor;
  await p.data();
  p.dispose();
}

/** Forward multiply-adds x 2 per image of the conv and dense layers. */
function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    const weights = layer.getWeights();
    if (cls === 'Conv2D') {
      const [fh, fw, ci, co] = weights[0].shape;
      flops += 2 * out[1] * out[2] * fh * fw * ci * co;
    } else if (cls === 'Dense') {
      const [i, o] = weights[0].shape;
      flops += 2 * i * o;
    }
  }
  return flops;
}

/** Milliseconds per kernel name per call, averaged over a few profiled calls (tf.profile), largest first; small ones summed as 'other'. */
async function kernelMs(f: () => Promise<void>, calls = 3): Promise<Record<string, number>> {
  const byName = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const info = await tf.profile(f);
    // Entries named '<op>__op' are op scopes around kernels listed on their own: counting them would count twice.
    for (const k of info.kernels) if (!k.name.endsWith('__op')) byName.set(k.name, (byName.get(k.name) ?? 0) + Number(k.kernelTimeMs) / calls);
  }
  const out: Record<string, number> = {};
  let other = 0;
  for (const [name, ms] of [...byName].sort((p, q) => q[1] - p[1])) {
    if (ms >= 0.5) out[name] = +ms.toFixed(2);
    else other += ms;
  }
  out.other = +other.toFixed(2);
  return out;
}

async function measureEngine() {
  const backend = await selectBackend();
  const model = buildCnn(hp);
  const { x, y } = batch(hp.batchSize);
  for (let i = 0; i < 3; i++) await trainStep(model, x, y);
  await forward(model, x);
  await forwardApply(model, x);
  const [train, infer, apply] = await timeInTurns(steps, [
    () => trainStep(model, x, y),
    () => forward(model, x),
    () => forwardApply(model, x),
  ]);
  // Per-kernel breakdown of one step and one forward pass (profiled separately: profiling adds overhead).
  const trainKernelMs = await kernelMs(() => trainStep(model, x, y));
  const forwardKernelMs = await kernelMs(() => forward(model, x));
  const leakCheck = tf.memory().numTensors;
  await trainStep(model, x, y);
  const leaked = tf.memory().numTensors - leakCheck;
  const flops = forwardFlops(model);
  tf.dispose([x, y]);
  model.dispose();
  const b = hp.batchSize;
  return {
    backend,
    trainStepMs: { median: median(train.wallMs), min: Math.min(...train.wallMs) },
    forwardMs: { median: median(infer.wallMs), min: Math.min(...infer.wallMs) },
    forwardApplyMs: { median: median(apply.wallMs), min: Math.min(...apply.wallMs) },
    trainImagesPerSec: (1000 * b) / median(train.wallMs),
    inferImagesPerSec: (1000 * b) / median(infer.wallMs),
    trainImagesPerSecBest: (1000 * b) / Math.min(...train.wallMs),
    trainImagesPerCpuSec: (1000 * b) / median(train.cpuMs),
    inferImagesPerCpuSec: (1000 * b) / median(infer.cpuMs),
    trainStepOverForward: median(train.wallMs) / median(infer.wallMs),
    trainStepOverForwardCpu: median(train.cpuMs) / median(infer.cpuMs),
    trainStepOverForwardApply: median(train.wallMs) / median(apply.wallMs),
    tensorsLeakedPerStep: leaked,
    kernelMs: { trainStep: trainKernelMs, forward: forwardKernelMs },
    forwardMflopPerImage: flops / 1e6,
  };
}

async function measureCpu() {
  await tf.setBackend('cpu');
  const model = buildCnn(hp);
  const small = batch(2);
  await trainStep(model, small.x, small.y); // warm-up
  const { x, y } = batch(cpuTrainBatch);
  const train = await time(1, () => trainStep(model, x, y));
  const inferBatch = batch(hp.batchSize);
  const infer = await time(1, () => forward(model, inferBatch.x));
  tf.dispose([small.x, small.y, x, y, inferBatch.x, inferBatch.y]);
  model.dispose();
  return {
    backend: 'cpu',
    trainBatch: cpuTrainBatch,
    trainImagesPerSec: (1000 * cpuTrainBatch) / train.wallMs[0],
    inferImagesPerSec: (1000 * hp.batchSize) / infer.wallMs[0],
    trainImagesPerCpuSec: (1000 * cpuTrainBatch) / train.cpuMs[0],
    inferImagesPerCpuSec: (1000 * hp.batchSize) / infer.cpuMs[0],
  };
}

async function main() {
  const load = os.loadavg()[0];
  const engine = await measureEngine();
  const cpu = await measureCpu();
  const trainMflop = 3 * engine.forwardMflopPerImage;
  const result = {
    bench: 'train',
    model: 'reference CNN 16/32/64 3x3, dense 64, 64x64x3, batch 32',
    cores: os.cpus().length,
    loadAverageAtStart: +load.toFixed(2),
    loadAverageAtEnd: +os.loadavg()[0].toFixed(2),
    engine,
    cpuBackend: cpu,
    ratios: {
      train: engine.trainImagesPerSec / cpu.trainImagesPerSec,
      inference: engine.inferImagesPerSec / cpu.inferImagesPerSec,
      trainPerCpuSec: engine.trainImagesPerCpuSec / cpu.trainImagesPerCpuSec,
    },
    acceptance: {
      trainImagesPerSecAtLeast150: engine.trainImagesPerSec >= 150,
      trainRatioAtLeast300: engine.trainImagesPerSec / cpu.trainImagesPerSec >= 300,
      trainStepAtMost4xForward: Math.max(engine.trainStepOverForward, engine.trainStepOverForwardApply) <= 4,
    },
    ceiling: {
      trainMflopPerImage: trainMflop,
      // ~50 GFLOP/s per core with wasm SIMD FMA at best; one process uses one core (no wasm threads in Node).
      oneCoreMsPerImage: trainMflop / 50,
      twoCoresMsPerImage: trainMflop / 100,
      engineMsPerImage: engine.trainStepMs.median / hp.batchSize,
    },
    note: 'wall-clock figures on a shared 2-core machine are noisy; per-CPU-second figures count only this process',
  };
  console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(4) : v), 2));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
