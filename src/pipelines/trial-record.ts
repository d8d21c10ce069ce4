import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getContent } from '../jobs/content-store.js';
import { writeModelBundle } from '../model/bundle.js';
import { MODEL_JSON, type LayersModelJson } from '../model/io.js';
import { withRun } from '../tracking/runs.js';
import type { TrialTask, TrialTaskResult } from './trial-task.js';

export interface TrialRecord {
  task: TrialTask;
  result: TrialTaskResult;
  parentId: string;
  tags: Record<string, string>;
  datasetKey: string;
  /** The data source's id (tagged as `source`, like every training run). */
  sourceId: string;
}

/**
 * Record one stint of a trial as a child run of the tuning run, on the coordinator (the tracking store's single
 * writer): its settings, each epoch's metrics, the trained model and the validation metrics of its best epoch.
 */
export async function recordTrialRun(r: TrialRecord): Promise<{ runId: string; modelDir: string }> {
  const { task, result } = r;
  const s = task.settings;
  return withRun(
    {
      name: task.runName,
      parentId: r.parentId,
      params: { ...s.hyperparameters, epochs: s.epochs, patience: s.patience, seed: s.seed, classWeight: s.classWeight, threshold: s.threshold, dataset: task.datasetName },
      tags: { ...r.tags, source: r.sourceId },
      dataset: { name: task.datasetName, manifestHash: r.datasetKey },
    },
    async (run) => {
      for (const [epoch, logs] of result.history.entries()) await run.logEpoch(epoch, { ...logs });
      await run.logTiming('train', result.trainMs);
      await run.setBackend(result.backend);
      const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-trial-'));
      try {
        const dir = path.join(scratch, 'model');
        await writeModelBundle(await getContent(result.model), dir);
        const file = path.join(dir, MODEL_JSON);
        const json = JSON.parse(await fs.readFile(file, 'utf8')) as LayersModelJson;
        json.userDefinedMetadata = { ...(json.userDefinedMetadata ?? {}), runId: run.id };
        await fs.writeFile(file, JSON.stringify(json));
        await run.copyArtifact('model', dir);
      } finally {
        await fs.rm(scratch, { recursive: true, force: true });
      }
      const best = result.history[result.bestEpoch];
      await run.logMetrics({ epochs_trained: result.epochsTrained, best_epoch: result.bestEpoch + 1, val_auc: best?.val_auc ?? null, val_loss: best?.val_loss ?? null });
      return { runId: run.id, modelDir: run.artifactPath('model') };
    },
  );
}
