import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataSource, PreparedDataset } from '../data/types.js';
import { behaviourChecks } from '../evaluation/behaviour.js';
import { evaluate, headlineMetrics } from '../evaluation/report.js';
import { chooseThreshold } from '../evaluation/threshold.js';
import type { ThresholdStrategy } from '../evaluation/types.js';
import type { CnnHyperparameters } from '../model/cnn.js';
import { loadModel, saveModel } from '../model/io.js';
import { predictProbabilities, predictSquares } from '../model/predict.js';
import { trainModel, type TrainOptions } from '../model/train.js';
import { withRun } from '../tracking/runs.js';
import { splitThumbnailer } from './thumbnails.js';
import { zeroShotBaseline } from './zero-shot-baseline.js';
import { paths } from '../storage/paths.js';
import type { Progress, Log } from '../progress/index.js';

export interface TrainRunSettings {
  hyperparameters: CnnHyperparameters;
  epochs: number;
  /** Early stopping patience in epochs (validation loss). */
  patience: number;
  seed: number;
  classWeight: 'balanced' | null;
  threshold: ThresholdStrategy;
}

export interface TrainRunInput extends TrainRunSettings {
  name: string;
  dataset: PreparedDataset;
  source: DataSource;
  parentId?: string | null;
  tags?: Record<string, string>;
  /** Files to attach to the run as artifacts (e.g. the data validation report), by artifact name. */
  attach?: Record<string, string>;
  /** Continue from this saved model instead of fresh weights (tuning rungs). */
  resumeFrom?: string;
  /** Skip the test split, the behaviour checks and the error gallery (tuning trials score on validation only). */
  validationOnly?: boolean;
  /** Put back the weights of the epoch with the best validation loss (default true); a fine-tune keeps its last epoch. */
  restoreBestWeights?: boolean;
  /** More training rows as features only (feedback kept without its photo), on a pretrained backbone. */
  extraTrainFeatures?: TrainOptions['extraTrainFeatures'];
  onProgress?: Progress;
  log?: Log;
}

export interface TrainRunOutput {
  runId: string;
  runDir: string;
  modelDir: string;
  backend: string;
  metrics: Record<string, number | null>;
  epochsTrained: number;
}

/**
 * One tracked training run: train the CNN on the prepared splits, save it in the TensorFlow.js layers format,
 * choose the threshold on validation, evaluate on test (metrics, curves, calibration, slices, error gallery,
 * behavioural checks) and record everything with the run. A failure marks the run failed.
 */
export async function trainAndEvaluate(input: TrainRunInput): Promise<TrainRunOutput> {
  const { dataset: data, hyperparameters: hp } = input;
  const log = input.log ?? (() => {});
  return withRun(
    {
      name: input.name,
      parentId: input.parentId ?? null,
      params: { ...hp, epochs: input.epochs, patience: input.patience, seed: input.seed, classWeight: input.classWeight, threshold: input.threshold, dataset: data.name },
      tags: { ...(input.tags ?? {}), source: input.source.id },
      dataset: { name: data.name, manifestHash: data.key },
    },
    async (run) => {
      for (const [name, file] of Object.entries(input.attach ?? {})) await run.copyArtifact(name, file);
      const previous = input.resumeFrom ? await loadModel(input.resumeFrom) : undefined;
      const trainStart = Date.now();
      const result = await trainModel(hp, data.train, data.val, {
        epochs: input.epochs,
        seed: input.seed,
        patience: input.patience,
        classWeight: input.classWeight,
        model: previous,
        extraTrainFeatures: input.extraTrainFeatures,
        restoreBestWeights: input.restoreBestWeights,
        onProgress: input.onProgress,
        featureCacheDir: paths.featureCache(),
        callbacks: {
          onEpochEnd: async (epoch, logs) => {
            await run.logEpoch(epoch, { ...logs });
            log(`epoch ${epoch + 1}/${input.epochs}: loss ${logs.loss.toFixed(3)} val_loss ${logs.val_loss.toFixed(3)} val_auc ${logs.val_auc.toFixed(3)} (${logs.images_per_second.toFixed(0)} img/s)`);
          },
        },
      });
      await run.logTiming('train', Date.now() - trainStart);
      await run.setBackend(result.backend);
      const model = result.model;
      try {
        const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-model-'));
        await saveModel(model, path.join(scratch, 'model'), { imageSize: hp.imageSize, runId: run.id, dataset: data.name });
        await run.copyArtifact('model', path.join(scratch, 'model'));
        await fs.rm(scratch, { recursive: true, force: true });

        const evalStart = Date.now();
        const valProbs = await predictProbabilities(model, data.val, 64, { featureCacheDir: paths.featureCache() });
        const best = result.history[result.bestEpoch];
        const base = { epochs_trained: result.history.length, best_epoch: result.bestEpoch + 1, val_auc: best?.val_auc ?? null, val_loss: best?.val_loss ?? null };
        if (input.validationOnly) {
          await run.logMetrics(base);
          return { runId: run.id, runDir: run.dir, modelDir: run.artifactPath('model'), backend: result.backend, metrics: base, epochsTrained: result.history.length };
        }
        const testProbs = await predictProbabilities(model, data.test, 64, { featureCacheDir: paths.featureCache() });
        const scored = (split: PreparedDataset['val'], probs: Float32Array) => ({ labels: split.labels, probs, groups: split.groups, paths: split.paths });
        // Perturbed squares: each is a square photo, so a backbone model sees it whole (its whole view is the square);
        // their features are cached by pixels, so the mirrored copies and the next run on this split cost nothing.
        const predict = async (pixels: Uint8Array, n: number, size: number) => predictSquares(model, { pixels, n, size }, { featureCacheDir: paths.featureCache() });
        const threshold = chooseThreshold(scored(data.val, valProbs), input.threshold, 'val').threshold;
        const behaviour = await behaviourChecks(data.test, predict, threshold);
        const report = await evaluate({
          val: scored(data.val, valProbs),
          test: scored(data.test, testProbs),
          strategy: input.threshold,
          behaviour,
          thumbnail: splitThumbnailer(input.source, data.test),
        });
        report.baseline = await zeroShotBaseline(hp.backbone, data.val, data.test, input.threshold, paths.featureCache());
        if (report.baseline) {
          const b = report.baseline.test;
          log(`baseline ${report.baseline.name}: test precision ${b.precision?.toFixed(3)} recall ${b.recall?.toFixed(3)} ROC AUC ${b.rocAuc?.toFixed(3)}`);
        }
        await run.writeArtifact('evaluation.json', report);
        await run.logTiming('evaluate', Date.now() - evalStart);
        const metrics = { ...headlineMetrics(report), ...base };
        await run.logMetrics(metrics);
        return { runId: run.id, runDir: run.dir, modelDir: run.artifactPath('model'), backend: result.backend, metrics, epochsTrained: result.history.length };
      } finally {
        model.dispose();
      }
    },
  );
}
