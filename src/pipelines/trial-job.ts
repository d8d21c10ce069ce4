import { loadPreparedDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import type { PreparedDataset } from '../data/types.js';
import { validateHyperparameters } from '../model/cnn.js';
import { DeterministicJobError, type JobContext } from '../jobs/job.js';
import type { TrialTask, TrialTaskResult } from './trial-task.js';
import { trainAndEvaluate } from './train-run.js';

/** Job kind of one stint of one tuning trial. */
export const TRIAL_KIND = 'tuning-trial';

// A worker keeps the prepared data set in memory between the trials of one tuning run.
let cached: { name: string; data: Promise<PreparedDataset> } | undefined;

function checkTask(task: TrialTask): void {
  const { epochs, hyperparameters } = task.settings ?? {};
  if (!Number.isInteger(epochs) || epochs < 1) throw new DeterministicJobError(`trial ${task.runName}: epochs must be an integer >= 1, got ${epochs}`);
  if (!hyperparameters || typeof hyperparameters !== 'object') throw new DeterministicJobError(`trial ${task.runName}: no hyperparameters`);
  try {
    validateHyperparameters(hyperparameters);
  } catch (err) {
    throw new DeterministicJobError(`trial ${task.runName}: ${(err as Error).message}`);
  }
}

/**
 * The job handler: train `settings.epochs` more epochs of one trial (from `resumeFrom` when given) as a child run
 * of the tuning run and answer with its validation score. It reads the prepared data set by name and writes the
 * child run and its model into this process's data folder, so a queue worker must share the coordinator's
 * AREYOUACAT_HOME (same machine or a shared folder) for now.
 */
export async function trialJob(task: TrialTask, ctx: JobContext = {}): Promise<TrialTaskResult> {
  checkTask(task);
  if (!cached || cached.name !== task.datasetName) {
    const data = loadPreparedDataset(task.datasetName);
    cached = { name: task.datasetName, data };
    data.catch(() => (cached = undefined));
  }
  const dataset = await cached.data;
  const source = await openSource(task.sourceSpec);
  // Progress keeps a long trial alive for the coordinator's idle check; at most one report a second.
  let reported = 0;
  const onProgress = (done: number, total: number) => {
    if (Date.now() - reported < 1000 && done < total) return;
    reported = Date.now();
    ctx.onProgress?.(done, total);
  };
  const out = await trainAndEvaluate({
    ...task.settings,
    name: task.runName,
    dataset,
    source,
    parentId: task.parentId,
    tags: task.tags,
    resumeFrom: task.resumeFrom,
    validationOnly: true,
    log: ctx.log,
    onProgress: ctx.onProgress ? onProgress : undefined,
  });
  const score = out.metrics.val_auc;
  if (typeof score !== 'number') throw new DeterministicJobError(`trial ${task.runName} produced no validation AUC`);
  return { score, runId: out.runId, modelDir: out.modelDir, epochsTrained: out.epochsTrained, backend: out.backend };
}
