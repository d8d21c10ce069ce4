// Worker process for tuning trials: trains one stint of one trial and answers with its validation score.
// Started by ProcessPool (one per core); keeps the prepared data set in memory between tasks.
import { loadPreparedDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import type { PreparedDataset } from '../data/types.js';
import { serveTasks } from '../tuning/process-pool.js';
import type { TrialTask, TrialTaskResult } from './trial-task.js';
import { trainAndEvaluate } from './train-run.js';

let cached: { name: string; data: PreparedDataset } | undefined;

serveTasks(async (raw, emit) => {
  const task = raw as TrialTask;
  if (!cached || cached.name !== task.datasetName) cached = { name: task.datasetName, data: await loadPreparedDataset(task.datasetName) };
  const source = await openSource(task.sourceSpec);
  const out = await trainAndEvaluate({
    ...task.settings,
    name: task.runName,
    dataset: cached.data,
    source,
    parentId: task.parentId,
    tags: task.tags,
    resumeFrom: task.resumeFrom,
    validationOnly: true,
    log: (line) => emit({ line }),
  });
  const score = out.metrics.val_auc;
  if (typeof score !== 'number') throw new Error(`trial ${task.runName} produced no validation AUC`);
  const result: TrialTaskResult = { score, runId: out.runId, modelDir: out.modelDir, epochsTrained: out.epochsTrained, backend: out.backend };
  return result;
});
