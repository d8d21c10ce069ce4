import { datasetName } from '../data/dataset-name.js';
import { ingestDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import { selectImages } from '../data/subset.js';
import type { PreparedSplit } from '../data/types.js';
import { sourceMetrics, worstFolds, type HeldOutSource, type HeldOutSummary } from '../evaluation/by-source.js';
import { metricsAt } from '../evaluation/classification-metrics.js';
import { chooseThreshold } from '../evaluation/threshold.js';
import { computeFeaturesWithJobs } from '../jobs/feature-jobs.js';
import { photosOf } from '../model/photo-features.js';
import { withChanges, type CnnHyperparameters } from '../model/cnn.js';
import { predictProbabilities } from '../model/predict.js';
import { trainModel } from '../model/train.js';
import { rocAuc } from '../stats/roc-auc.js';
import { paths } from '../storage/paths.js';
import { withRun } from '../tracking/runs.js';
import { ensureModelFiles } from '../model-files/index.js';
import { backboneImageSize, defaultBackbone, defaultHyperparameters, type TrainPipelineOptions } from './train-pipeline.js';

/** The training settings of the folds are those of the training pipeline (same names, same defaults). */
export type SourcesPipelineOptions = Pick<
  TrainPipelineOptions,
  'data' | 'name' | 'size' | 'backbone' | 'mix' | 'n' | 'seed' | 'epochs' | 'patience' | 'hyperparameters' | 'classWeight' | 'threshold' | 'executor' | 'workers' | 'log' | 'onProgress'
> & {
  /** Hold out only these sources (default: every source). */
  only?: string[];
};

export interface SourcesPipelineResult {
  runId: string;
  dataset: string;
  folds: HeldOutSource[];
  /** The worst fold numbers over sources with cats / with dogs (what the acceptance asks about). */
  summary: HeldOutSummary;
}

/** The source of every prepared image, by path, from the ingested manifest. */
function sourceByPath(manifest: Array<{ path: string; source: string }>): Map<string, string> {
  return new Map(manifest.map((e) => [e.path, e.source]));
}

/**
 * Leave-one-source-out evaluation: "how will the model do on photos from somewhere else?". The data is ingested
 * and split as for training; then, for every source its manifest names, one model (the default head and
 * settings) is trained with every photo of that source left out of training and validation, its threshold is
 * chosen on the remaining validation photos, and it is scored on all photos of the held-out source. Recorded as
 * one tracked run (kind 'source-held-out') with the folds in its `sources.json` artifact.
 */
export async function runSourcesPipeline(opts: SourcesPipelineOptions): Promise<SourcesPipelineResult> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 1;
  const name = datasetName(opts);
  const source = await openSource(opts.data);
  const backbone = opts.hyperparameters?.backbone !== undefined ? opts.hyperparameters.backbone : opts.backbone !== undefined ? opts.backbone : defaultBackbone(opts.data);
  if (backbone) await ensureModelFiles(backbone, { log });
  const ingested = await ingestDataset({ source, name, size: opts.size ?? (backbone ? backboneImageSize(backbone) : 64), mix: opts.mix, n: opts.n, seed, onProgress: opts.onProgress?.('prepare') });
  const data = ingested.prepared;
  const sources = sourceByPath(ingested.manifest);
  const of = (split: PreparedSplit, i: number) => sources.get(split.paths[i]) ?? source.id;
  const all = [data.train, data.val, data.test];
  const names = [...new Set(all.flatMap((s) => s.paths.map((_, i) => of(s, i))))].sort();
  if (names.length < 2) {
    throw new Error(`${opts.data} names ${names.length} source(s): leave-one-source-out needs a manifest.csv whose "source" column names at least two`);
  }
  const heldOutNames = opts.only?.length ? opts.only : names;
  for (const s of heldOutNames) if (!names.includes(s)) throw new Error(`unknown source "${s}" (the data has: ${names.join(', ')})`);

  const hp: CnnHyperparameters = { ...withChanges(defaultHyperparameters(backbone), opts.hyperparameters ?? {}), backbone, imageSize: data.size };
  const epochs = opts.epochs ?? 20;
  const patience = opts.patience ?? 4;
  const classWeight = opts.classWeight === undefined ? 'balanced' : opts.classWeight;
  const strategy = opts.threshold ?? { kind: 'balanced' };
  const featureCacheDir = paths.featureCache();
  const photos = photosOf(source);

  return withRun(
    {
      name: 'sources',
      params: { ...hp, epochs, patience, seed, classWeight, threshold: strategy, dataset: data.name, heldOut: heldOutNames.join(',') },
      tags: { kind: 'source-held-out', source: source.id },
      dataset: { name: data.name, manifestHash: data.key },
    },
    async (run) => {
      if (backbone) {
        // Every photo once (and mirrored for training); the folds then only train heads on cached rows.
        const started = Date.now();
        const progress = opts.onProgress?.('features');
        // Whole views of the source photos, plain and mirrored (training may augment with it, and every prediction
        // is the mean over both), computed as jobs as the training pipeline computes them: a local pool of one
        // process per core by default, or the workers of a queue.
        const views = all.flatMap((images) => [false, true].map((flip) => ({ images, flip })));
        await computeFeaturesWithJobs({ backbone, views, sourceSpec: opts.data, executor: opts.executor, workers: opts.workers, cacheDir: featureCacheDir, onProgress: progress, log });
        await run.logTiming('features', Date.now() - started);
        log(`sources: backbone features ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      const folds: HeldOutSource[] = [];
      for (const held of heldOutNames) {
        const started = Date.now();
        const keepOthers = (s: PreparedSplit, i: number) => of(s, i) !== held;
        const train = selectImages([data.train], keepOthers);
        const val = selectImages([data.val], keepOthers);
        const test = selectImages([data.test], keepOthers);
        const heldOut = selectImages(all, (s, i) => !keepOthers(s, i));
        const valCats = val.labels.reduce((a, l) => a + l, 0);
        if (valCats === 0 || valCats === val.n) {
          throw new Error(`without ${held} the validation split holds ${valCats === 0 ? 'no cats' : 'only cats'} (${val.n} photos): too few photos to choose a threshold for that fold`);
        }
        const result = await trainModel(hp, train, val, { epochs, seed, patience, classWeight, featureCacheDir, photos, onProgress: opts.onProgress?.(`train without ${held}`) });
        try {
          const valProbs = await predictProbabilities(result.model, val, 64, { featureCacheDir, photos });
          const threshold = chooseThreshold({ labels: val.labels, probs: valProbs }, strategy, 'val').threshold;
          const heldProbs = await predictProbabilities(result.model, heldOut, 64, { featureCacheDir, photos });
          const testProbs = test.n ? await predictProbabilities(result.model, test, 64, { featureCacheDir, photos }) : new Float32Array(0);
          const rows = heldOut.paths.map((_, i) => ({ source: held, group: heldOut.groups[i], label: heldOut.labels[i] as 0 | 1, prob: heldProbs[i] }));
          const others = metricsAt(test.labels, testProbs, threshold);
          const fold: HeldOutSource = {
            source: held,
            trainN: train.n,
            valN: val.n,
            epochsTrained: result.history.length,
            threshold,
            heldOut: sourceMetrics(held, rows, threshold),
            heldOutRocAuc: rocAuc(heldOut.labels, heldProbs),
            others: { n: test.n, precision: others.precision, recall: others.recall },
          };
          folds.push(fold);
          await run.logTiming(`fold ${held}`, Date.now() - started);
          const groups = Object.entries(fold.heldOut.groups).map(([g, v]) => `${g} ${v.calledCat}/${v.n} called cat`).join(', ');
          log(`sources: without ${held}: ${groups} (threshold ${threshold.toFixed(3)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        } finally {
          result.model.dispose();
        }
      }
      const summary = worstFolds(folds);
      await run.writeArtifact('sources.json', { dataset: data.name, folds, summary });
      await run.logMetrics({ min_held_out_cat_recall: summary.minCatRecall, max_held_out_dog_called_cat: summary.maxDogCalledCat });
      return { runId: run.id, dataset: data.name, folds, summary };
    },
  );
}
