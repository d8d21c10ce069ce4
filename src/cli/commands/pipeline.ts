import { Command, Option } from 'commander';
import { parseMix } from '../../data/mix.js';
import type { ThresholdStrategy } from '../../evaluation/types.js';
import { parseThresholdStrategy } from '../../evaluation/threshold.js';
import { runDeployPipeline } from '../../pipelines/deploy-pipeline.js';
import { sourceTable, type HeldOutSource, type SourceMetrics } from '../../evaluation/by-source.js';

import { evaluateLabelledSource, type FolderEvaluation } from '../../pipelines/evaluate-folder.js';
import { runInferencePipeline } from '../../pipelines/infer-pipeline.js';
import { runTrainingPipeline, type TrainPipelineOptions } from '../../pipelines/train-pipeline.js';
import { openQueueExecutor, queueUrlFrom } from '../../jobs/open-executor.js';
import type { TuneOptions } from '../../pipelines/tune-step.js';
import { parseSpace } from '../../tuning/search-space.js';
import { action } from '../program.js';
import { cliLog } from '../log.js';
import { progressBar } from '../progress.js';
import type { Log } from '../../progress/index.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
};
const collect = (v: string, prev: string[]) => prev.concat(v.split(',').map((s) => s.trim()).filter(Boolean));

export const DEFAULT_DATA = 'synthetic';

/** Options shared by `pipeline train` and `pipeline deploy`. */
function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--data <spec>', 'data: a folder of <group>/<image> files, s3://bucket/prefix, or synthetic[:seed=1,n=800]', DEFAULT_DATA)
    .option('--name <name>', 'data set name (default: derived from --data)')
    .option('--size <px>', 'side of the square input images, the shorter side of the whole view on a backbone (default: 224 on imagenet-mobilenet-v1, 256 on coco-centernet, else 64)', int('size', 16))
    .option('--backbone <id>', 'frozen pretrained backbone under a trained head: imagenet-mobilenet-v1 (pulled on first use; see `areyouacat models`), coco-centernet (in the repository, works offline), or none for the CNN from scratch (default: imagenet-mobilenet-v1 for photos, none for synthetic data)')
    .option('--mix <mix>', 'group mix, e.g. cat=0.25,dog=0.25,selfie=0.25,misc=0.25')
    .option('--n <count>', 'total sample size (default: the largest that keeps the mix)', int('n', 4))
    .option('--seed <seed>', 'seed for sampling, splitting, weights and augmentation', int('seed', 0), 1)
    .option('--epochs <n>', 'most epochs to train', int('epochs', 1), 20)
    .option('--patience <n>', 'early stopping: epochs without validation improvement', int('patience', 1), 4)
    .option('--hp <json>', 'hyperparameters as JSON, e.g. {"filters":[16,32,64],"dropout":0.3}')
    .option('--threshold <strategy>', 'how to choose the decision threshold on validation: balanced (precision = recall), maximize-f1, min-precision:P or fixed:T', 'balanced')
    .option('--min-precision <p>', 'shorthand for --threshold min-precision:P', num('min-precision'))
    .option('--allow-check <id>', 'let a failing data validation check through (repeatable; recorded with the run)', collect, [] as string[])
    .option('--tune', 'tune hyperparameters first (random search with successive halving)')
    .option('--trials <n>', 'tuning trials', int('trials', 1), 8)
    .addOption(new Option('--strategy <s>', 'tuning strategy').choices(['successive-halving', 'random']).default('successive-halving'))
    .option('--min-epochs <n>', 'tuning: epochs of the first rung', int('min-epochs', 1), 2)
    .option('--max-epochs <n>', 'tuning: epochs of the last rung', int('max-epochs', 1), 8)
    .option('--space <json>', 'tuning search space as JSON (default: learning rate, filters, blocks, dropout, dense units, batch norm)')
    .option('--workers <n>', 'local worker processes for backbone features and tuning trials (default: one per core)', int('workers', 1))
    .option('--queue <url>', 'run the backbone-feature and tuning-trial jobs on a BullMQ queue, redis://HOST:6379, computed by `areyouacat worker` processes (default: AREYOUACAT_QUEUE_URL, else a local pool)')
    .option('--include-feedback', 'add consented feedback from S3: photos to the data, features-only answers to the head (labels from the answers, inconsistent ones left out, other backbones or recipes refused)')
    .option('--force', 'ignore cached step outputs and run every step')
    .option('--json', 'print the result as JSON');
}

interface TrainingFlags {
  data: string; name?: string; size?: number; backbone?: string; mix?: string; n?: number; seed: number; epochs: number; patience: number;
  hp?: string; threshold: string; minPrecision?: number; allowCheck: string[]; tune?: boolean; trials: number; strategy: TuneOptions['strategy'];
  minEpochs: number; maxEpochs: number; space?: string; workers?: number; queue?: string; includeFeedback?: boolean; force?: boolean; json?: boolean;
}

function parseHp(text: string | undefined): TrainPipelineOptions['hyperparameters'] {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as TrainPipelineOptions['hyperparameters'];
  } catch (err) {
    throw new Error(`--hp is not valid JSON: ${(err as Error).message}`);
  }
}

/** One progress bar per pipeline stage, the previous stage's stopped when the next starts. */
function stageBars(): (stage: string) => ReturnType<typeof progressBar> {
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  return (stage) => {
    for (const [name, bar] of bars) if (name !== stage) bar.stop();
    if (!bars.has(stage)) bars.set(stage, progressBar(stage));
    return bars.get(stage)!;
  };
}

export function pipelineOptions(f: TrainingFlags, log: Log): TrainPipelineOptions {
  const hp = parseHp(f.hp);
  const threshold: ThresholdStrategy = f.minPrecision !== undefined ? { kind: 'min-precision', minPrecision: f.minPrecision } : parseThresholdStrategy(f.threshold);
  return {
    data: f.data, name: f.name, size: f.size, backbone: f.backbone === undefined ? undefined : f.backbone === 'none' ? null : f.backbone, mix: f.mix ? parseMix(f.mix) : undefined, n: f.n, seed: f.seed, epochs: f.epochs,
    patience: f.patience, hyperparameters: hp, threshold, allowChecks: f.allowCheck, includeFeedback: f.includeFeedback, force: f.force, workers: f.workers, log,
    tune: f.tune
      ? { trials: f.trials, strategy: f.strategy, minEpochs: f.minEpochs, maxEpochs: Math.max(f.minEpochs, f.maxEpochs), eta: 3, seed: f.seed, workers: f.workers, space: f.space ? parseSpace(f.space) : undefined }
      : null,
    onProgress: stageBars(),
  };
}

const logLine = cliLog;

function printMetrics(metrics: Record<string, number | null>): string {
  const keys = ['precision', 'recall', 'f1', 'accuracy', 'rocAuc', 'prAuc', 'threshold'];
  return keys.filter((k) => metrics[k] !== undefined).map((k) => `${k} ${metrics[k] === null ? '-' : metrics[k].toFixed(3)}`).join('  ');
}

const QUEUE_PREDICT_HELP =
  'score the images as prediction-shard jobs on a BullMQ queue, redis://HOST:6379, computed by `areyouacat worker` processes sharing this data folder (default: AREYOUACAT_QUEUE_URL, else this process)';

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('Run the training, deployment and inference pipelines');

  trainingOptions(pipeline.command('train').description('Ingest, validate, (tune,) train and evaluate in a tracked run')).action(
    action(async (f: TrainingFlags) => {
      const executor = await openQueueExecutor(queueUrlFrom(f.queue), { log: logLine });
      const result = await runTrainingPipeline({ ...pipelineOptions(f, logLine), executor }).finally(() => executor?.close());
      if (f.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(`run ${result.run.runId}${result.run.cached ? ' (cached)' : ''}: ${printMetrics(result.run.metrics)}\n`);
    }),
  );

  trainingOptions(pipeline.command('deploy').description('Train (and tune), evaluate, gate, promote, and refresh the site data'))
    .option('--min-gate-precision <p>', 'gate: minimum test precision', num('min-gate-precision'))
    .option('--min-gate-recall <r>', 'gate: minimum test recall', num('min-gate-recall'))
    .option('--no-site', 'do not rebuild the report site')
    .action(
      action(async (f: TrainingFlags & { minGatePrecision?: number; minGateRecall?: number; site: boolean }) => {
        const { refreshSiteData } = await import('../../pipelines/refresh-site.js');
        const executor = await openQueueExecutor(queueUrlFrom(f.queue), { log: logLine });
        const result = await runDeployPipeline({
          ...pipelineOptions(f, logLine),
          executor,
          policy: { ...(f.minGatePrecision !== undefined ? { minPrecision: f.minGatePrecision } : {}), ...(f.minGateRecall !== undefined ? { minRecall: f.minGateRecall } : {}) },
          refreshSite: f.site ? () => refreshSiteData(logLine) : undefined,
        }).finally(() => executor?.close());
        if (f.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        else {
          const d = result.decision;
          process.stdout.write(`run ${result.training.run.runId}: ${printMetrics(result.training.run.metrics)}\n`);
          process.stdout.write(
            result.alreadyPromoted ? `v${result.version.version} is already the promoted model\n` : `v${result.version.version}: ${d?.action} (${d?.reasons.join('; ')})\n`,
          );
        }
        return result.alreadyPromoted || result.decision?.action !== 'reject' ? 0 : 3;
      }),
    );

  pipeline
    .command('finetune')
    .description('Continual learning: train the promoted model\'s head a few epochs on the feature feedback since its training run, mixed with a replay of its training photos; evaluate on its test split; the gate decides')
    .option('--epochs <n>', 'epochs over feedback and replay', int('epochs', 1), 5)
    .option('--per-client-cap <n>', 'most feedback items one client may contribute to this run', int('per-client-cap', 1), 50)
    .option('--replay <n>', "rows of the champion's training split replayed (default: max(200, 2 x feedback items))", int('replay', 0))
    .option('--learning-rate <lr>', 'learning rate of the fine-tune', num('learning-rate'))
    .option('--seed <seed>', 'seed for the replay sample, order and dropout', int('seed', 0), 1)
    .option('--data <spec>', "the champion's photos, for the run's error gallery (default: the source its training run recorded)")
    .option('--min-gate-precision <p>', 'gate: minimum test precision', num('min-gate-precision'))
    .option('--min-gate-recall <r>', 'gate: minimum test recall', num('min-gate-recall'))
    .option('--no-site', 'do not rebuild the report site')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (f: { epochs: number; perClientCap: number; replay?: number; learningRate?: number; seed: number; data?: string; minGatePrecision?: number; minGateRecall?: number; site: boolean; json?: boolean }) => {
        const { runFinetunePipeline } = await import('../../pipelines/finetune-pipeline.js');
        const { refreshSiteData } = await import('../../pipelines/refresh-site.js');
        const result = await runFinetunePipeline({
          epochs: f.epochs, perClientCap: f.perClientCap, replay: f.replay, learningRate: f.learningRate, seed: f.seed, data: f.data, log: logLine,
          policy: { ...(f.minGatePrecision !== undefined ? { minPrecision: f.minGatePrecision } : {}), ...(f.minGateRecall !== undefined ? { minRecall: f.minGateRecall } : {}) },
          refreshSite: f.site ? () => refreshSiteData(logLine) : undefined,
        });
        if (f.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        else if (!result.run) process.stdout.write(`${result.summary}: no usable feedback since its training run\n`);
        else {
          const d = result.decision;
          process.stdout.write(`run ${result.run.runId} (${result.summary}): ${printMetrics(result.run.metrics)}\n`);
          if (result.version) process.stdout.write(`v${result.version.version}: ${d?.action ?? 'already promoted'} (${d?.reasons.join('; ') ?? ''})\n`);
        }
        return result.decision?.action === 'reject' ? 3 : 0;
      }),
    );

  pipeline
    .command('sources')
    .description('Leave-one-source-out: per source, train without its photos and score them (how the model does on photos from elsewhere)')
    .option('--data <spec>', "labelled data whose manifest.csv names each photo's source", DEFAULT_DATA)
    .option('--name <name>', 'data set name (default: derived from --data)')
    .option('--only <source>', 'hold out only this source (repeatable)', collect, [] as string[])
    .option('--seed <seed>', 'seed for sampling, splitting, weights and order', int('seed', 0), 1)
    .option('--epochs <n>', 'most epochs to train each model', int('epochs', 1), 20)
    .option('--hp <json>', 'hyperparameters as JSON (default: the pipeline defaults)')
    .option('--workers <n>', 'local worker processes for the backbone features (default: one per core)', int('workers', 1))
    .option('--queue <url>', 'compute the backbone features on a BullMQ queue, redis://HOST:6379 (default: AREYOUACAT_QUEUE_URL, else a local pool)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (f: { data: string; name?: string; only: string[]; seed: number; epochs: number; hp?: string; workers?: number; queue?: string; json?: boolean }) => {
        const { runSourcesPipeline } = await import('../../pipelines/sources-pipeline.js');
        const executor = await openQueueExecutor(queueUrlFrom(f.queue), { log: logLine });
        const r = await runSourcesPipeline({ data: f.data, name: f.name, only: f.only, seed: f.seed, epochs: f.epochs, hyperparameters: parseHp(f.hp), executor, workers: f.workers, log: logLine, onProgress: f.json ? undefined : stageBars() }).finally(() => executor?.close());
        if (f.json) return void process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        process.stdout.write(`run ${r.runId}: each source held out of training and validation, scored on all its photos\n${heldOutTable(r.folds)}\n`);
        const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(3));
        process.stdout.write(`worst held-out cat recall ${fmt(r.summary.minCatRecall)}, worst share of dogs called cats ${fmt(r.summary.maxDogCalledCat)}\n`);
      }),
    );

  pipeline
    .command('infer')
    .description('Batch predictions with the promoted model for every image of a source')
    .requiredOption('--data <spec>', 'folder of <group>/<image> files, s3://bucket/prefix, or synthetic')
    .requiredOption('--out <file>', 'output file (.csv, .jsonl or .json)')
    .option('--model <version>', 'registry version (default: the promoted model)')
    .option('--queue <url>', QUEUE_PREDICT_HELP)
    .action(
      action(async (f: { data: string; out: string; model?: string; queue?: string }) => {
        const executor = await openQueueExecutor(queueUrlFrom(f.queue), { log: logLine });
        const bar = progressBar('predict');
        const r = await runInferencePipeline({ data: f.data, out: f.out, model: f.model, executor, onProgress: bar }).finally(() => executor?.close());
        bar.stop();
        process.stdout.write(`${r.n} images scored with v${r.version} (threshold ${r.threshold.toFixed(3)}): ${r.cats} cats, ${r.rejected} rejected -> ${r.out}\n`);
      }),
    );

  program
    .command('evaluate')
    .description('Evaluate a labelled folder (<group>/<image>) with the promoted model at its threshold')
    .requiredOption('--data <spec>', 'labelled data: folder, s3://bucket/prefix, or synthetic')
    .option('--model <version>', 'registry version (default: the promoted model)')
    .option('--positive-group <g>', 'group that counts as "cat"', 'cat')
    .option('--by-source', "also per upstream source named by the data's manifest.csv (precision, recall, share of each group called a cat)")
    .option('--json', 'print JSON')
    .option('--queue <url>', QUEUE_PREDICT_HELP)
    .action(
      action(async (f: { data: string; model?: string; positiveGroup: string; bySource?: boolean; json?: boolean; queue?: string }) => {
        const executor = await openQueueExecutor(queueUrlFrom(f.queue), { log: logLine });
        const bar = f.json ? undefined : progressBar('evaluate');
        const r = await evaluateLabelledSource(f.data, { model: f.model, positiveGroup: f.positiveGroup, bySource: f.bySource, executor, onProgress: bar }).finally(() => executor?.close());
        bar?.stop();
        if (f.json) return void process.stdout.write(JSON.stringify(evaluationJson(r), null, 2) + '\n');
        const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(3));
        process.stdout.write(`v${r.modelVersion} on ${r.n} images at threshold ${fmt(r.threshold)}: precision ${fmt(r.precision)} recall ${fmt(r.recall)} f1 ${fmt(r.f1)} accuracy ${fmt(r.accuracy)} roc_auc ${fmt(r.rocAuc)}\n`);
        for (const [g, s] of Object.entries(r.groups)) process.stdout.write(`  ${g.padEnd(8)} ${String(s.n).padStart(5)} images, called cat ${fmt(s.rate)}\n`);
        if (r.rejected.n) process.stdout.write(`  rejected ${r.rejected.n}: ${JSON.stringify(r.rejected.byReason)}\n`);
        if (r.bySource) process.stdout.write(`\n${sourceTable(r.bySource)}\n`);
      }),
    );
}

/**
 * `evaluate --json` keeps the keys it has always printed (snake_case, in this order), so scripts reading it do not
 * break; the library returns camelCase like everything else.
 */
export function evaluationJson(r: FolderEvaluation) {
  return {
    precision: r.precision,
    recall: r.recall,
    f1: r.f1,
    accuracy: r.accuracy,
    roc_auc: r.rocAuc,
    threshold: r.threshold,
    n: r.n,
    model_version: r.modelVersion,
    positive_group: r.positiveGroup,
    groups: Object.fromEntries(Object.entries(r.groups).map(([g, s]) => [g, { n: s.n, called_cat: s.calledCat, rate: s.rate }])),
    rejected: r.rejected,
    ...(r.bySource ? { by_source: r.bySource.map(sourceJson) } : {}),
  };
}

/** One source's numbers in `--json` output, snake_case like the rest of it. */
export function sourceJson(s: SourceMetrics) {
  return {
    source: s.source,
    n: s.n,
    precision: s.precision,
    recall: s.recall,
    groups: Object.fromEntries(Object.entries(s.groups).map(([g, v]) => [g, { n: v.n, called_cat: v.calledCat, rate: v.rate }])),
  };
}

/** The leave-one-source-out table: the per-source columns plus each fold's threshold and the other sources' test numbers. */
export function heldOutTable(folds: readonly HeldOutSource[]): string {
  const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const table = sourceTable(folds.map((f) => f.heldOut), 'held-out source').split('\n');
  return table.map((line, i) => (i === 0 ? `${line}  threshold  others' test P/R` : `${line}  ${fmt(folds[i - 1].threshold).padStart(9)}  ${fmt(folds[i - 1].others.precision)}/${fmt(folds[i - 1].others.recall)}`)).join('\n');
}
