import { calibration } from './calibration.js';
import { prCurve, rocCurve } from './curves.js';
import { averagePrecision, metricsAt, rocAuc } from './classification-metrics.js';
import { checkScored, type ScoredSplit } from './scored.js';
import { errorGallery, sliceMetrics, type Thumbnail } from './slices.js';
import { chooseThreshold, thresholdSweep } from './threshold.js';
import { EVALUATION_SCHEMA, type BaselineEvaluation, type BehaviourReport, type EvaluationReport, type SplitEvaluation, type ThresholdStrategy } from './types.js';

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
  const b = report.baseline;
  if (b) {
    for (const key of ['precision', 'recall', 'f1', 'accuracy', 'rocAuc', 'prAuc'] as const) out[`baseline.${key}`] = b.test[key];
  }
  return out;
}

/**
 * A baseline scored as a candidate is: threshold chosen on its validation scores with the same strategy, then the
 * test split's numbers at that threshold.
 */
export function evaluateBaseline(name: string, description: string, val: ScoredSplit, test: ScoredSplit, strategy: ThresholdStrategy): BaselineEvaluation {
  checkScored(val, 'baseline val');
  checkScored(test, 'baseline test');
  const threshold = chooseThreshold(val, strategy, 'val').threshold;
  const m = metricsAt(test.labels, test.probs, threshold);
  const positiveRates = Object.fromEntries(test.groups ? sliceMetrics(test, threshold).map((s) => [s.group, s.positiveRate]) : []);
  return {
    name,
    description,
    threshold,
    test: { n: test.labels.length, precision: m.precision, recall: m.recall, f1: m.f1, accuracy: m.accuracy, rocAuc: rocAuc(test.labels, test.probs), prAuc: averagePrecision(test.labels, test.probs), positiveRates },
  };
}
