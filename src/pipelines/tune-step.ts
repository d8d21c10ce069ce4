import os from 'node:os';
import { loadPreparedDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import type { PreparedDataset } from '../data/types.js';
import { deleteContent, type ContentRef } from '../jobs/content-store.js';
import { featureCacheFor } from '../jobs/feature-jobs.js';
import type { Executor } from '../jobs/job.js';
import { resolveAugmentation } from '../model/augment.js';
import { withChanges, type CnnHyperparameters } from '../model/cnn.js';
import { getRun, withRun } from '../tracking/runs.js';
import { runSchedule, type TuningOutcome } from '../tuning/scheduler.js';
import { sampleTrials, type Params, type SearchSpace } from '../tuning/search-space.js';
import { localJobExecutor } from './job-kinds.js';
import { defineStep, type StepObserver } from './step.js';
import { TRIAL_KIND } from './trial-job.js';
import { trialData } from './trial-inputs.js';
import { recordTrialRun } from './trial-record.js';
import type { TrialData, TrialTask, TrialTaskResult } from './trial-task.js';
import type { TrainRunSettings } from './train-run.js';
import type { Log } from '../progress/index.js';

/**
 * The default search space: the knobs that matter most for this CNN at this data size. Batch norm is left out
 * (pass a space with it to try): on the wasm backend it halves training speed, so it eats the tuning budget.
 */
export const DEFAULT_SEARCH_SPACE: SearchSpace = {
  learningRate: { type: 'loguniform', min: 5e-4, max: 4e-3 },
  filters: { type: 'choice', values: [16, 24, 32] },
  convBlocks: { type: 'int', min: 3, max: 4 },
  dropout: { type: 'uniform', min: 0, max: 0.5 },
  denseUnits: { type: 'choice', values: [64, 128] },
};

/** The search space for a head on a frozen pretrained backbone: there are no conv layers to shape. */
export const BACKBONE_SEARCH_SPACE: SearchSpace = {
  learningRate: { type: 'loguniform', min: 3e-4, max: 3e-3 },
  dropout: { type: 'uniform', min: 0, max: 0.6 },
  denseUnits: { type: 'choice', values: [0, 64, 128, 256] },
  batchSize: { type: 'choice', values: [32, 64] },
};

export interface TuneOptions {
  trials: number;
  strategy: 'successive-halving' | 'random';
  minEpochs: number;
  maxEpochs: number;
  eta: number;
  seed: number;
  /** Worker processes of the default local pool; default one per core. */
  workers?: number;
  space?: SearchSpace;
}

export interface TuneInput extends TuneOptions {
  datasetName: string;
  datasetKey: string;
  sourceSpec: string;
  /** The prepared data set (default: loaded by `datasetName`); the trials get its splits by content. */
  dataset?: PreparedDataset;
  base: TrainRunSettings;
  /** Where the trials run (a queue or a local pool); default a local pool of `workers` processes. */
  executor?: Executor;
  log?: Log;
}

export interface TuneOutput {
  parentRunId: string;
  outcome: Omit<TuningOutcome, 'best'> & { bestIndex: number | null };
  bestParams: Params | null;
  bestHyperparameters: CnnHyperparameters | null;
}

/** Merge sampled parameters into the base hyperparameters. */
export function withParams(base: CnnHyperparameters, params: Params): CnnHyperparameters {
  return withChanges(base, params);
}

/**
 * Random search over `space` (seeded: same seed, same trials) scheduled by successive halving or plain random
 * search; each stint of a trial is a job (kind `tuning-trial`) on the executor, recorded as a child run of one
 * tuning run.
 */
export async function tuneHyperparameters(input: TuneInput): Promise<TuneOutput> {
  const space = input.space ?? (input.base.hyperparameters.backbone ? BACKBONE_SEARCH_SPACE : DEFAULT_SEARCH_SPACE);
  const params = sampleTrials(space, input.trials, input.seed);
  const log = input.log ?? (() => {});
  return withRun(
    {
      name: 'tune',
      params: { ...input.base.hyperparameters, space, trials: input.trials, strategy: input.strategy, minEpochs: input.minEpochs, maxEpochs: input.maxEpochs, eta: input.eta, seed: input.seed },
      tags: { kind: 'tuning' },
      dataset: { name: input.datasetName, manifestHash: input.datasetKey },
    },
    async (run) => {
      const workers = input.workers ?? Math.max(1, Math.min(os.cpus().length, input.trials));
      const owned = input.executor ? null : localJobExecutor({ workers });
      const executor = input.executor ?? owned!;
      // On a queue as many trials run at once as the schedule allows; the workers set the real parallelism.
      const concurrency = input.executor && !input.executor.local ? Math.max(workers, input.trials) : workers;
      log(`tuning: trials on ${executor.description}`);
      const store = featureCacheFor(executor);
      const dataset = input.dataset ?? (await loadPreparedDataset(input.datasetName));
      const sourceId = (await openSource(input.sourceSpec)).id;
      // The trials' data by content, made once per view set (a search space may switch flips on and off).
      const data = new Map<boolean, Promise<TrialData>>();
      const dataFor = (flip: boolean) => {
        let d = data.get(flip);
        if (!d) {
          d = trialData(dataset, { backbone: input.base.hyperparameters.backbone ?? null, flip, cache: store, sourceSpec: input.sourceSpec, executor, log });
          data.set(flip, d);
        }
        return d;
      };
      // Trial weights kept for the next rung; once the search is over they live on in the child runs only.
      const weights: ContentRef[] = [];
      try {
        const outcome = await runSchedule(
          params,
          async (trial, epochs, previous) => {
            const prev = previous?.state as { model: ContentRef; epochs: number } | undefined;
            const hyperparameters = withParams(input.base.hyperparameters, trial.params);
            const task: TrialTask = {
              runName: `trial-${trial.index}`,
              datasetName: input.datasetName,
              settings: { ...input.base, hyperparameters, epochs: epochs - (prev?.epochs ?? 0), patience: Number.MAX_SAFE_INTEGER },
              data: await dataFor(resolveAugmentation(hyperparameters.augmentation)?.flip ?? false),
              resumeFrom: prev?.model,
              // The local pool answers through a pipe: its weights need not pile up in this machine's cache.
              store: executor.local ? 'none' : store,
            };
            const [res] = await executor.run<TrialTaskResult>([{ kind: TRIAL_KIND, input: task }], { log: (line) => log(`trial ${trial.index}: ${line}`) });
            // Recorded here, once, when the answer arrives: a job retried after a lost worker leaves no second run.
            await recordTrialRun({ task, result: res, parentId: run.id, tags: { kind: 'trial', trial: String(trial.index), budget: String(epochs) }, datasetKey: input.datasetKey, sourceId });
            weights.push(res.model);
            log(`trial ${trial.index} (${epochs} epochs): val_auc ${res.score.toFixed(4)} ${JSON.stringify(trial.params)}`);
            return { score: res.score, metrics: { val_auc: res.score }, state: { model: res.model, epochs } };
          },
          { strategy: input.strategy, minEpochs: input.minEpochs, maxEpochs: input.maxEpochs, eta: input.eta, concurrency },
        );
        const best = outcome.best ?? null;
        const trials = outcome.trials.map(({ state: _state, ...t }) => t);
        await run.writeArtifact('trials.json', { space, strategy: outcome.strategy, rungEpochs: outcome.rungEpochs, trials, bestIndex: best?.index ?? null });
        if (best) await run.logMetrics({ best_val_auc: best.rungs[best.rungs.length - 1].score, best_trial: best.index });
        if (best) await run.setTags({ bestParams: JSON.stringify(best.params) });
        return {
          parentRunId: run.id,
          outcome: { strategy: outcome.strategy, rungEpochs: outcome.rungEpochs, trials, bestIndex: best?.index ?? null },
          bestParams: best?.params ?? null,
          bestHyperparameters: best ? withParams(input.base.hyperparameters, best.params) : null,
        };
      } finally {
        await owned?.close();
        await deleteContent(weights).catch((err: Error) => log(`tuning: could not remove ${weights.length} trial weight files from the job store: ${err.message}`));
      }
    },
  );
}

/** Everything the tuning step reads; its cache key is derived from this and nothing else. */
export interface TuneStepInput {
  tune: TuneOptions;
  base: TrainRunSettings;
  /** The data set trials load (by name) and the content key it must have. */
  datasetName: string;
  datasetKey: string;
  /** The data spec the images come from (features the cache lacks are computed from it). */
  sourceSpec: string;
  /** The prepared data set itself (not keyed: `datasetName` and `datasetKey` name it); default loaded by name. */
  dataset?: StepObserver<PreparedDataset>;
  /** Where the trials run; not keyed (every executor gives the same trials). */
  executor?: StepObserver<Executor>;
}

/** Tune in a tracked parent run; a cached output is reused while that run is still there and finished. */
export const tuneStep = defineStep<TuneStepInput, TuneOutput>({
  name: 'tune',
  // 3: backbone models read the whole view of each photo (BACKBONE_VIEW) and predict the mean over its mirror
  version: 3,
  run: (input, ctx) =>
    tuneHyperparameters({ ...input.tune, datasetName: input.datasetName, datasetKey: input.datasetKey, sourceSpec: input.sourceSpec, dataset: input.dataset?.value, base: input.base, executor: input.executor?.value, log: ctx.log }),
  stillValid: async (out) => (await getRun(out.parentRunId))?.effectiveStatus === 'finished',
});
