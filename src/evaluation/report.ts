import { calibration } from './calibration.js';
import { prCurve, rocCurve } from './curves.js';
import { averagePrecision, metricsAt, rocAuc } from './classification-metrics.js';
import { checkScored, type ScoredSplit } from './scored.js';
import { errorGallery, sliceMetrics, type Thumbnail } from './slices.js';
import { chooseThreshold, thresholdSweep } from './threshold.js';
import { EVALUATION_SCHEMA, type BehaviourReport, type EvaluationReport, type SplitEvaluation, type ThresholdStrategy } from './types.js';

export interface EvaluateOptions {
  /** Validation predictions: the threshold is chosen here. */
  val: ScoredSplit;
  /** Test predictions: reported at the validation threshold. */
  test: ScoredSplit;
  strategy?: ThresholdStrategy;
  /** Makes data: URIs for the error gallery. */
  thumbnail?: Thumbnail;
  errorsPerKind?: number;
  /** Most points kept on ROC and PR curves. */
  curvePoints?: number;
  calibrationBins?: number;
  behaviour?: BehaviourReport | null;
}

/** Every metric, curve, slice and error of one split at a given threshold. */
export async function evaluateSplit(
  split: ScoredSplit,
  threshold: number,
  name: string,
  opts: Pick<EvaluateOptions, 'thumbnail' | 'errorsPerKind' | 'curvePoints' | 'calibrationBins'> = {},
): Promise<SplitEvaluation> {
  checkScored(split, name);
  const { labels, probs } = split;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  return {
    split: name,
    n: labels.length,
    positives,
    atThreshold: metricsAt(labels, probs, threshold),
    rocAuc: rocAuc(labels, probs),
    prAuc: averagePrecision(labels, probs),
    roc: rocCurve(labels, probs, opts.curvePoints ?? 200),
    pr: prCurve(labels, probs, opts.curvePoints ?? 200),
    calibration: calibration(labels, probs, opts.calibrationBins ?? 10),
    sweep: thresholdSweep(labels, probs),
    slices: split.groups ? sliceMetrics(split, threshold) : [],
    errors: await errorGallery(split, threshold, opts.errorsPerKind ?? 12, opts.thumbnail),
  };
}

/** Choose the threshold on validation, then evaluate the test split (and validation) at it. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluationReport> {
  const choice = chooseThreshold(opts.val, opts.strategy ?? { kind: 'maximize-f1' }, 'val');
  return {
    schema: EVALUATION_SCHEMA,
    createdAt: new Date().toISOString(),
    threshold: choice,
    test: await evaluateSplit(opts.test, choice.threshold, 'test', opts),
    val: await evaluateSplit(opts.val, choice.threshold, 'val', { ...opts, thumbnail: undefined }),
    behaviour: opts.behaviour ?? null,
  };
}

/** The headline numbers of a report, flat, for run metrics and model cards. */
export function headlineMetrics(report: EvaluationReport): Record<string, number | null> {
  const t = report.test;
  const out: Record<string, number | null> = {
    precision: t.atThreshold.precision,
    recall: t.atThreshold.recall,
    f1: t.atThreshold.f1,
    accuracy: t.atThreshold.accuracy,
    rocAuc: t.rocAuc,
    prAuc: t.prAuc,
    ece: t.calibration.ece,
    threshold: report.threshold.threshold,
  };
  for (const s of t.slices) out[`positiveRate.${s.group}`] = s.positiveRate;
  return out;
}
