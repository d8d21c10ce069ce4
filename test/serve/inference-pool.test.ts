import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/io.js';
import { predictProbabilities } from '../../src/model/predict.js';
import { selectBackend } from '../../src/model/backend.js';
import { InferencePool, servingWorkers, type BatchDetail } from '../../src/serve/inference-pool.js';
import { loadTfjsServingModel, POOL } from '../../src/serve/tfjs-model.js';
import type { PromotedModel } from '../../src/registry/types.js';
import { registerTestModel } from './helpers/model-fixture.js';
import { useTempHome } from './helpers/server-fixture.js';
import { waitFor } from './helpers/wait-for.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let promoted: PromotedModel;
const SIZE = 32;
const PER = SIZE * SIZE * 3;

function randomPixels(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * PER);
  let s = seed;
  for (let i = 0; i < out.length; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

beforeAll(async () => {
  home = await useTempHome('pool');
  promoted = await registerTestModel({ tmp: home.home, imageSize: SIZE, seed: 3 });
});

afterAll(async () => {
  await home?.restore();
});

describe('inference pool (worker threads)', () => {
  it('sizes the pool from the option, then AREYOUACAT_SERVE_WORKERS, then the cores', () => {
    const old = process.env.AREYOUACAT_SERVE_WORKERS;
    try {
      process.env.AREYOUACAT_SERVE_WORKERS = '3';
      expect(servingWorkers()).toBe(3);
      expect(servingWorkers(1)).toBe(1);
      delete process.env.AREYOUACAT_SERVE_WORKERS;
      expect(servingWorkers()).toBeGreaterThanOrEqual(1);
      process.env.AREYOUACAT_SERVE_WORKERS = 'two';
      expect(() => servingWorkers()).toThrow(/integer/);
    } finally {
      if (old === undefined) delete process.env.AREYOUACAT_SERVE_WORKERS;
      else process.env.AREYOUACAT_SERVE_WORKERS = old;
    }
  });

  it('answers exactly as the model on the main thread does (1e-6), batched or one by one', async () => {
    await selectBackend({ prefer: 'wasm' });
    const model = await loadModel(promoted.dir);
    const pixels = randomPixels(7, 11);
    const expected = await predictProbabilities(model, { n: 7, size: SIZE, pixels }, 7);
    model.dispose();
    const serving = await loadTfjsServingModel(promoted, { workers: 2 });
    try {
      const batched = await serving[POOL]!.run(pixels.slice(), 7);
      const single = await Promise.all(Array.from({ length: 7 }, (_, i) => serving.predict(pixels.slice(i * PER, (i + 1) * PER))));
      for (let i = 0; i < 7; i++) {
        expect(Math.abs(batched[i] - expected[i])).toBeLessThan(1e-6);
        expect(Math.abs(single[i] - expected[i])).toBeLessThan(1e-6);
      }
    } finally {
      serving.dispose();
    }
  });

  it('runs two batches at the same time on two workers', async () => {
    const details: BatchDetail[] = [];
    const pool = await InferencePool.start({
      modelDir: promoted.dir,
      version: promoted.version,
      imageSize: SIZE,
      size: 2,
      onBatch: (_n, _ms, d) => details.push(d),
    });
    await pool.allStarted();
    try {
      expect(pool.workers).toHaveLength(2);
      // Batches long enough (hundreds of ms) that two of them overlap only if they truly run in parallel.
      const n = 768;
      await Promise.all([pool.run(randomPixels(n, 1), n), pool.run(randomPixels(n, 2), n)]);
      expect(details).toHaveLength(2);
      const [a, b] = details as [BatchDetail, BatchDetail];
      expect(a.threadId).not.toBe(b.threadId);
      const overlapMs = Math.min(a.endedAt, b.endedAt) - Math.max(a.startedAt, b.startedAt);
      expect(overlapMs).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('replaces a terminated worker: its batch fails with a 503, the next request succeeds', async () => {
    const logs: string[] = [];
    const pool = await InferencePool.start({ modelDir: promoted.dir, version: promoted.version, imageSize: SIZE, size: 2, log: (m) => logs.push(m) });
    await pool.allStarted();
    try {
      const victim = pool.workers[0];
      const running = pool.run(randomPixels(2048, 5), 2048); // goes to the first idle worker
      void victim.terminate();
      await expect(running).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/worker stopped/) });
      await waitFor(() => pool.workers.length === 2 && !pool.workers.includes(victim), 'a replacement worker');
      const probs = await pool.run(randomPixels(1, 6), 1);
      expect(probs).toHaveLength(1);
      expect(logs.some((l) => /exited .* replacement/.test(l))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker whose thread exits (process.exit inside the worker)', async () => {
    const serving = await loadTfjsServingModel(promoted, { workers: 1 });
    const pool = serving[POOL]!;
    try {
      const before = pool.workers[0];
      const exited = new Promise<number>((r) => before.once('exit', r));
      before.postMessage({ type: 'exit', code: 7 });
      expect(await exited).toBe(7);
      await waitFor(() => pool.workers.length === 1 && pool.workers[0] !== before, 'a replacement worker');
      const p = await serving.predict(randomPixels(1, 9));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    } finally {
      serving.dispose();
    }
  });

  it('fails a batch that outlives its time limit instead of hanging, and replaces the stuck worker', async () => {
    const pool = await InferencePool.start({ modelDir: promoted.dir, version: promoted.version, imageSize: SIZE, size: 1, batchTimeoutMs: 30 });
    try {
      await expect(pool.run(randomPixels(4096, 3), 4096)).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/longer than 30 ms/) });
      await waitFor(() => pool.workers.length === 1, 'a replacement worker');
    } finally {
      await pool.close();
    }
  });

  it('answers as soon as its first worker is ready; the others join', async () => {
    const pool = await InferencePool.start({ modelDir: promoted.dir, version: promoted.version, imageSize: SIZE, size: 2 });
    try {
      expect(pool.workers.length).toBeGreaterThanOrEqual(1);
      expect(await pool.run(randomPixels(1, 4), 1)).toHaveLength(1);
      await pool.allStarted();
      expect(pool.workers).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('fails to start, with the reason, when the model cannot be loaded', async () => {
    await expect(InferencePool.start({ modelDir: `${promoted.dir}-missing`, version: 9, imageSize: SIZE, size: 2 })).rejects.toThrow(/cannot read model/);
  });

  it('dispose terminates every worker thread, and later requests are refused', async () => {
    const serving = await loadTfjsServingModel(promoted, { workers: 2 });
    const pool = serving[POOL]!;
    await pool.allStarted();
    const threads = pool.workers;
    expect(threads).toHaveLength(2);
    const exits = threads.map((w) => new Promise<void>((r) => w.once('exit', () => r())));
    serving.dispose();
    await Promise.all(exits);
    expect(pool.threadCount).toBe(0);
    await expect(serving.predict(randomPixels(1, 1))).rejects.toMatchObject({ status: 503 });
  });
});
