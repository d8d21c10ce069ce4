import { describe, expect, it } from 'vitest';
import { rungBudgets, runSchedule, type TrialFn } from '../../src/tuning/scheduler.js';
import { parseSpace, sampleTrials } from '../../src/tuning/search-space.js';

const space = parseSpace(
  JSON.stringify({
    learningRate: { type: 'loguniform', min: 1e-4, max: 1e-2 },
    filters: { type: 'choice', values: [8, 16, 32] },
    dropout: { type: 'uniform', min: 0, max: 0.5 },
    denseUnits: { type: 'int', min: 16, max: 128, step: 16 },
  }),
);

// A fake learner whose score grows with epochs and depends on the params: quality q in (0,1), score = q * (1 - 1/(e+1)).
const quality = (p: Record<string, unknown>) => 1 - Math.abs(Math.log10(p.learningRate as number) + 3) / 2;
const learner: TrialFn = async (trial, epochs, previous) => {
  const seen = (previous?.state as number | undefined) ?? 0;
  expect(epochs).toBeGreaterThan(seen); // continues, never retrains from zero
  return { score: quality(trial.params) * (1 - 1 / (epochs + 1)), state: epochs };
};

describe('search space sampling', () => {
  it('is deterministic for a seed and respects bounds and types', () => {
    const a = sampleTrials(space, 20, 42);
    expect(sampleTrials(space, 20, 42)).toEqual(a);
    expect(sampleTrials(space, 20, 43)).not.toEqual(a);
    for (const p of a) {
      expect(p.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(p.learningRate).toBeLessThanOrEqual(1e-2);
      expect([8, 16, 32]).toContain(p.filters);
      expect(Number.isInteger(p.denseUnits)).toBe(true);
      expect((p.denseUnits as number) % 16).toBe(0);
    }
    const lrs = a.map((p) => Math.log10(p.learningRate as number));
    expect(Math.min(...lrs)).toBeLessThan(-3.2); // log-uniform covers both decades
    expect(Math.max(...lrs)).toBeGreaterThan(-2.8);
  });

  it('rejects broken spaces with a clear message', () => {
    expect(() => parseSpace('{"lr": {"type": "loguniform", "min": 0, "max": 1}}')).toThrow(/lr.*0 < min/);
    expect(() => parseSpace('{"x": {"type": "choice", "values": []}}')).toThrow(/choice needs values/);
    expect(() => parseSpace('[1]')).toThrow(/JSON object/);
    expect(() => parseSpace('{')).toThrow(/not valid JSON/);
  });
});

describe('successive halving', () => {
  it('computes rung budgets', () => {
    expect(rungBudgets(1, 9, 3)).toEqual([1, 3, 9]);
    expect(rungBudgets(2, 10, 3)).toEqual([2, 6, 10]);
    expect(rungBudgets(4, 4, 3)).toEqual([4]);
  });

  it('stops weak trials early, keeps the best, and is deterministic', async () => {
    const trials = sampleTrials(space, 9, 7);
    const run = () => runSchedule(trials, learner, { strategy: 'successive-halving', minEpochs: 1, maxEpochs: 9, eta: 3, concurrency: 2 });
    const out = await run();
    const byRungs = out.trials.map((t) => t.rungs.length).sort();
    expect(byRungs).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 3]);
    const truthBest = trials.map((p, i) => ({ i, q: quality(p) })).sort((a, b) => b.q - a.q)[0].i;
    expect(out.best?.index).toBe(truthBest);
    expect(out.best?.status).toBe('completed');
    expect(out.trials.filter((t) => t.status === 'completed')).toHaveLength(1);
    const again = await run();
    expect(again.trials.map((t) => [t.index, t.rungs.length, t.score])).toEqual(out.trials.map((t) => [t.index, t.rungs.length, t.score]));
  });

  it('records failing trials without stopping the others', async () => {
    const trials = sampleTrials(space, 4, 1);
    const out = await runSchedule(
      trials,
      async (t, e) => {
        if (t.index === 2) throw new Error('out of memory');
        return { score: t.index + e };
      },
      { strategy: 'random', minEpochs: 1, maxEpochs: 2, eta: 3, concurrency: 2 },
    );
    expect(out.trials[2]).toMatchObject({ status: 'failed', error: 'out of memory' });
    expect(out.best?.index).toBe(3);
    expect(out.trials.filter((t) => t.status === 'completed')).toHaveLength(3);
  });
});
