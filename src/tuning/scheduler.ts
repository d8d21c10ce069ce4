import type { Params } from './search-space.js';
import { mapLimit } from '../data/concurrency.js';

/** What one training stint of a trial reports. `state` lets the next rung continue from where this one stopped. */
export interface StintResult {
  score: number;
  metrics?: Record<string, number>;
  state?: unknown;
}

export interface Trial {
  index: number;
  params: Params;
}

/** Train `trial` until it has seen `epochs` epochs in total, continuing from `previous` when given. */
export type TrialFn = (trial: Trial, epochs: number, previous: StintResult | undefined) => Promise<StintResult>;

export interface RungRecord {
  rung: number;
  epochs: number;
  score: number;
  metrics?: Record<string, number>;
}

export interface TrialRecord extends Trial {
  status: 'completed' | 'stopped' | 'failed';
  /** Best score over the rungs the trial reached (higher is better). */
  score: number;
  rungs: RungRecord[];
  error?: string;
  state?: unknown;
}

export interface TuningOutcome {
  strategy: 'successive-halving' | 'random';
  trials: TrialRecord[];
  best: TrialRecord | undefined;
  /** Epoch budget of each rung, e.g. [1, 3, 9]. */
  rungEpochs: number[];
}

export interface ScheduleOptions {
  strategy: 'successive-halving' | 'random';
  minEpochs: number;
  maxEpochs: number;
  /** Keep the best 1/eta of the trials at each rung. */
  eta: number;
  concurrency: number;
  onTrialEvent?: (event: { trial: TrialRecord; rung: number; epochs: number }) => void;
}

/** Rung budgets for successive halving: minEpochs * eta^k, capped by and ending at maxEpochs. */
export function rungBudgets(minEpochs: number, maxEpochs: number, eta: number): number[] {
  if (!(minEpochs >= 1 && maxEpochs >= minEpochs)) throw new Error('tuning needs 1 <= minEpochs <= maxEpochs');
  if (!(eta >= 2)) throw new Error('successive halving needs eta >= 2');
  const budgets: number[] = [];
  for (let e = minEpochs; e < maxEpochs; e = Math.max(e + 1, Math.round(e * eta))) budgets.push(e);
  budgets.push(maxEpochs);
  return budgets;
}

/**
 * Run trials with successive halving (Hyperband-style early stopping of weak trials) or plain random search.
 * A trial that throws is recorded as failed with its error and never promoted to the next rung.
 */
export async function runSchedule(params: Params[], run: TrialFn, opts: ScheduleOptions): Promise<TuningOutcome> {
  const records: TrialRecord[] = params.map((p, index) => ({ index, params: p, status: 'stopped', score: -Infinity, rungs: [] }));
  const budgets = opts.strategy === 'random' ? [opts.maxEpochs] : rungBudgets(opts.minEpochs, opts.maxEpochs, opts.eta);
  let alive = records.slice();
  for (let rung = 0; rung < budgets.length && alive.length > 0; rung++) {
    const epochs = budgets[rung];
    await mapLimit(alive, opts.concurrency, async (rec) => {
      try {
        const previous = rec.rungs.length ? { score: rec.score, state: rec.state } : undefined;
        const result = await run({ index: rec.index, params: rec.params }, epochs, previous);
        if (!Number.isFinite(result.score)) throw new Error(`trial returned a non-finite score (${result.score})`);
        rec.rungs.push({ rung, epochs, score: result.score, metrics: result.metrics });
        rec.score = Math.max(rec.score, result.score);
        rec.state = result.state;
      } catch (err) {
        rec.status = 'failed';
        rec.error = (err as Error).message;
      }
      opts.onTrialEvent?.({ trial: rec, rung, epochs });
    });
    const ok = alive.filter((r) => r.status !== 'failed');
    const last = rung === budgets.length - 1;
    if (last) {
      for (const r of ok) r.status = 'completed';
      break;
    }
    const keep = Math.max(1, Math.floor(ok.length / opts.eta));
    // Rank by this rung's score; ties broken by trial index so the schedule is deterministic.
    ok.sort((a, b) => b.rungs[b.rungs.length - 1].score - a.rungs[a.rungs.length - 1].score || a.index - b.index);
    alive = ok.slice(0, keep);
  }
  const finished = records.filter((r) => r.status !== 'failed' && r.rungs.length > 0);
  // The best trial is the best at the deepest rung reached, so a 1-epoch fluke cannot beat a fully trained trial.
  const deepest = Math.max(-1, ...finished.map((r) => r.rungs.length));
  const best = finished
    .filter((r) => r.rungs.length === deepest)
    .sort((a, b) => b.rungs[b.rungs.length - 1].score - a.rungs[a.rungs.length - 1].score || a.index - b.index)[0];
  return { strategy: opts.strategy, trials: records, best, rungEpochs: budgets };
}
