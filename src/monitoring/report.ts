import path from 'node:path';
import { getVersion, readPromoted } from '../registry/registry.js';
import type { PromotedModel } from '../registry/types.js';
import { paths } from '../storage/paths.js';
import { writeJsonAtomic } from '../storage/atomic.js';
import { DEFAULT_VALIDATION_CONFIG } from '../validation/config.js';
import { confusionOf, ratio } from '../stats/confusion.js';
import { ksTest } from '../stats/ks-test.js';
import { psi, psiFromCounts } from '../stats/psi.js';
import { median } from '../stats/quantiles.js';
import { round } from '../stats/round.js';
import { PROPERTY_NAMES } from '../validation/types.js';
import type { FeedbackRecord } from '../feedback/types.js';
import { readLog } from './event-log.js';
import {
  loadPredictionReference,
  loadTrainingReference,
  type PredictionReference,
  type TrainingReference,
  type Unavailable,
} from './reference.js';
import { readMetricsSnapshot, scrapeMetrics, servingNumbers } from './serving-stats.js';
import type { PromSample } from './prometheus-text.js';
import type {
  MonitoringAlert,
  MonitoringReport,
  MonitoringThresholds,
  PredictionLogEntry,
  PropertyDriftRow,
} from './types.js';
import type { Progress } from '../progress/index.js';

const drift = DEFAULT_VALIDATION_CONFIG.drift;

export const DEFAULT_MONITORING_THRESHOLDS: MonitoringThresholds = {
  windowDays: 7,
  minSamples: 30,
  drift: { ksWarn: drift.ksWarn, ksAlert: drift.ksFail, psiWarn: drift.psiWarn, psiAlert: drift.psiFail, maxPValue: drift.maxPValue, bins: drift.bins },
  predictionPsiWarn: 0.1,
  predictionPsiAlert: 0.25,
  minFeedback: 20,
  minPrecision: 0.8,
  minRecall: 0.8,
  maxErrorRate: 0.01,
  maxP95Ms: 250,
};

export const MONITORING_REPORT_FILE = 'report.json';

export interface MonitorOptions {
  /** Scrape this running server's /metrics; default: the snapshot file the server writes. */
  url?: string;
  /**
   * For the running server itself: its own metrics now (what its /metrics would answer), taken instead of a scrape
   * or the snapshot file.
   */
  metrics?: () => PromSample[];
  thresholds?: Partial<MonitoringThresholds>;
  /** Train images measured for the drift reference (default 1000). */
  maxReferenceImages?: number;
  /** Write `<monitoring>/report.json` (default true). */
  save?: boolean;
  now?: Date;
  onProgress?: Progress;
}

function isUnavailable<T extends object>(x: T | Unavailable): x is Unavailable {
  return 'unavailable' in x;
}

/** Counts of values in bins [e0, e1), [e1, e2), ..., the last bin including its upper edge. */
export function binCounts(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let k = edges.findIndex((e, i) => i > 0 && v < e) - 1;
    if (k < 0) k = v >= edges[edges.length - 1] ? edges.length - 2 : 0;
    counts[k]++;
  }
  return counts;
}

function level(value: number, warn: number, alert: number): 'ok' | 'warn' | 'alert' {
  return value > alert ? 'alert' : value > warn ? 'warn' : 'ok';
}

export function driftSection(
  reference: TrainingReference | Unavailable,
  entries: PredictionLogEntry[],
  t: MonitoringThresholds,
): MonitoringReport['drift'] {
  const measured = entries.filter((e) => e.properties);
  if (isUnavailable(reference)) {
    return { status: 'unavailable', reason: reference.unavailable, reference: null, n: measured.length, rows: [] };
  }
  const ref = { dataset: reference.dataset, n: reference.n };
  if (measured.length < t.minSamples) {
    return {
      status: 'insufficient-data',
      reason: `${measured.length} measured prediction inputs in the window; drift is judged from ${t.minSamples}`,
      reference: ref,
      n: measured.length,
      rows: [],
    };
  }
  const rows: PropertyDriftRow[] = PROPERTY_NAMES.map((property) => {
    const a = reference.values[property];
    const b = measured.map((e) => e.properties![property]);
    const ks = ksTest(a, b);
    const p = psi(a, b, t.drift.bins);
    const ksCounts = ks.pValue < t.drift.maxPValue;
    const byPsi = level(p, t.drift.psiWarn, t.drift.psiAlert);
    const byKs = ksCounts ? level(ks.statistic, t.drift.ksWarn, t.drift.ksAlert) : 'ok';
    const status = byPsi === 'alert' || byKs === 'alert' ? 'alert' : byPsi === 'warn' || byKs === 'warn' ? 'warn' : 'ok';
    return {
      property,
      ks: round(ks.statistic),
      pValue: Number(ks.pValue.toPrecision(3)),
      psi: round(p),
      referenceMedian: round(median(a)),
      currentMedian: round(median(b)),
      status,
    };
  });
  const status = rows.some((r) => r.status === 'alert') ? 'alert' : rows.some((r) => r.status === 'warn') ? 'warn' : 'ok';
  return { status, reason: null, reference: ref, n: measured.length, rows };
}

export function predictionSection(
  reference: PredictionReference | Unavailable | null,
  entries: PredictionLogEntry[],
  t: MonitoringThresholds,
): MonitoringReport['predictions'] {
  const probs = entries.map((e) => e.probability);
  const n = probs.length;
  const positiveRate = n ? round(entries.filter((e) => e.decision === 'cat').length / n) : null;
  const meanProbability = n ? round(probs.reduce((a, b) => a + b, 0) / n) : null;
  const base = { n, positiveRate, meanProbability };
  const edges = reference && !isUnavailable(reference) ? reference.edges : Array.from({ length: 11 }, (_, i) => i / 10);
  const share = (c: number[]) => {
    const total = c.reduce((a, b) => a + b, 0);
    return c.map((x) => (total ? round(x / total) : 0));
  };
  const current = binCounts(probs, edges);
  if (!reference || isUnavailable(reference)) {
    return {
      ...base,
      status: 'unavailable',
      reason: reference && isUnavailable(reference) ? reference.unavailable : 'no model is promoted',
      psi: null,
      histogram: { edges, reference: null, current: share(current) },
      referenceSource: null,
    };
  }
  const histogram = { edges, reference: share(reference.counts), current: share(current) };
  if (n < t.minSamples) {
    return {
      ...base,
      status: 'insufficient-data',
      reason: `${n} predictions of this model in the window; the shift is judged from ${t.minSamples}`,
      psi: null,
      histogram,
      referenceSource: reference.source,
    };
  }
  const p = round(psiFromCounts(reference.counts, current));
  return {
    ...base,
    status: level(p, t.predictionPsiWarn, t.predictionPsiAlert),
    reason: null,
    psi: p,
    histogram,
    referenceSource: reference.source,
  };
}

export function feedbackSection(records: FeedbackRecord[], t: MonitoringThresholds): MonitoringReport['feedback'] {
  const { tp, fp, tn, fn } = confusionOf(records.map((r) => r.answer === 'cat'), records.map((r) => r.prediction.decision === 'cat'));
  const n = records.length;
  const rounded = (x: number | null) => (x === null ? null : round(x));
  const precision = rounded(ratio(tp, tp + fp));
  const recall = rounded(ratio(tp, tp + fn));
  const accuracy = rounded(ratio(tp + tn, n));
  const counts = { n, tp, fp, tn, fn, precision, recall, accuracy };
  if (n < t.minFeedback) {
    return { ...counts, status: 'insufficient-data', reason: `${n} feedback answers in the window; judged from ${t.minFeedback}` };
  }
  const low = (precision !== null && precision < t.minPrecision) || (recall !== null && recall < t.minRecall);
  return { ...counts, status: low ? 'alert' : 'ok', reason: null };
}

export function servingSection(
  scraped: { source: 'url' | 'snapshot' | 'server'; at: string; samples: PromSample[] } | { unavailable: string },
  t: MonitoringThresholds,
): MonitoringReport['serving'] {
  const empty = { requests: 0, errors5xx: 0, errors4xx: 0, errorRate: null, refused: 0, p50Ms: null, p95Ms: null, modelVersion: null, feedbackQueueDepth: null };
  if ('unavailable' in scraped) return { status: 'unavailable', reason: scraped.unavailable, source: null, at: null, ...empty };
  const numbers = servingNumbers(scraped.samples);
  const base = { source: scraped.source, at: scraped.at, ...numbers };
  if (numbers.requests < t.minSamples) {
    return { ...base, status: 'insufficient-data', reason: `${numbers.requests} API requests so far; judged from ${t.minSamples}` };
  }
  const bad = (numbers.errorRate ?? 0) > t.maxErrorRate;
  const slow = (numbers.p95Ms ?? 0) > t.maxP95Ms;
  return { ...base, status: bad ? 'alert' : slow ? 'warn' : 'ok', reason: null };
}

function collectAlerts(r: Omit<MonitoringReport, 'alerts' | 'warnings'>): MonitoringAlert[] {
  const t = r.thresholds;
  const out: MonitoringAlert[] = [];
  for (const row of r.drift.rows) {
    if (row.status === 'ok') continue;
    const sev = row.status === 'alert' ? 'critical' : 'warning';
    out.push({
      id: `drift:${row.property}`,
      severity: sev,
      message: `incoming photos' ${row.property} drifted from training (KS ${row.ks}, PSI ${row.psi}; median ${row.referenceMedian} -> ${row.currentMedian})`,
      value: row.psi,
      threshold: sev === 'critical' ? t.drift.psiAlert : t.drift.psiWarn,
    });
  }
  const pr = r.predictions;
  if (pr.psi !== null && pr.status !== 'ok') {
    const sev = pr.status === 'alert' ? 'critical' : 'warning';
    out.push({
      id: 'predictions:psi',
      severity: sev,
      message: `the distribution of p(cat) shifted from the test split (PSI ${pr.psi}; cats called ${pr.positiveRate})`,
      value: pr.psi,
      threshold: sev === 'critical' ? t.predictionPsiAlert : t.predictionPsiWarn,
    });
  }
  const f = r.feedback;
  if (f.status === 'alert') {
    if (f.precision !== null && f.precision < t.minPrecision) {
      out.push({ id: 'feedback:precision', severity: 'critical', message: `real-world precision ${f.precision} from ${f.n} answers is below ${t.minPrecision}`, value: f.precision, threshold: t.minPrecision });
    }
    if (f.recall !== null && f.recall < t.minRecall) {
      out.push({ id: 'feedback:recall', severity: 'critical', message: `real-world recall ${f.recall} from ${f.n} answers is below ${t.minRecall}`, value: f.recall, threshold: t.minRecall });
    }
  }
  const s = r.serving;
  if (s.status === 'alert' || s.status === 'warn') {
    if ((s.errorRate ?? 0) > t.maxErrorRate) {
      out.push({ id: 'serving:error-rate', severity: 'critical', message: `${s.errors5xx} of ${s.requests} API requests failed with 5xx`, value: s.errorRate, threshold: t.maxErrorRate });
    }
    if ((s.p95Ms ?? 0) > t.maxP95Ms) {
      out.push({ id: 'serving:p95', severity: 'warning', message: `predict latency p95 ${s.p95Ms} ms is above ${t.maxP95Ms} ms`, value: s.p95Ms, threshold: t.maxP95Ms });
    }
  }
  return out;
}

function mergeThresholds(over: Partial<MonitoringThresholds> = {}): MonitoringThresholds {
  return { ...DEFAULT_MONITORING_THRESHOLDS, ...over, drift: { ...DEFAULT_MONITORING_THRESHOLDS.drift, ...(over.drift ?? {}) } };
}

async function servingSource(options: Pick<MonitorOptions, 'url' | 'metrics'>, dir: string) {
  const { url, metrics } = options;
  if (metrics) {
    try {
      return { source: 'server' as const, at: new Date().toISOString(), samples: metrics() };
    } catch (err) {
      return { unavailable: `the server's metrics cannot be read: ${(err as Error).message}` };
    }
  }
  if (url) {
    try {
      return { source: 'url' as const, at: new Date().toISOString(), samples: await scrapeMetrics(url) };
    } catch (err) {
      return { unavailable: (err as Error).message };
    }
  }
  try {
    const snap = await readMetricsSnapshot(dir);
    if (!snap) return { unavailable: 'no server metrics: give --url of a running server, or run `areyouacat serve` (it writes a snapshot)' };
    return { source: 'snapshot' as const, at: snap.time, samples: snap.samples };
  } catch (err) {
    return { unavailable: `the metrics snapshot is unreadable: ${(err as Error).message}` };
  }
}

/** The version the server answers with (its model-version gauge; 0 = none) when it is not the promoted one, else the promoted one. */
async function servedModel(promoted: PromotedModel | null, served: number | null): Promise<PromotedModel | null> {
  if (served === null || served <= 0 || served === promoted?.version) return promoted;
  try {
    return await getVersion(served);
  } catch {
    return promoted;
  }
}

/**
 * Build the monitoring report: drift of incoming photos against the training data, the shift of the prediction
 * distribution against the test split, real-world precision/recall from feedback, and serving latency and errors.
 * Breaches of the thresholds become `alerts` (critical) and `warnings`. Saved to `<monitoring>/report.json`.
 */
export async function buildMonitoringReport(options: MonitorOptions = {}): Promise<{ report: MonitoringReport; file: string | null }> {
  const t = mergeThresholds(options.thresholds);
  const now = options.now ?? new Date();
  const sinceDay = new Date(now.getTime() - (t.windowDays - 1) * 86_400_000).toISOString().slice(0, 10);
  const dir = paths.monitoring();
  const pointer: PromotedModel | null = await readPromoted();
  // The serving numbers first: when a server answers with another version than the promoted one (the promoted one
  // failed to load and it kept the one before), the report is about the version that answers.
  const serving = servingSection(await servingSource(options, dir), t);
  const promoted = await servedModel(pointer, serving.modelVersion);

  const predictions = (await readLog<PredictionLogEntry>(dir, 'predictions', sinceDay)).records;
  const ofModel = promoted ? predictions.filter((e) => e.version === promoted.version) : [];
  const feedback = (await readLog<FeedbackRecord>(dir, 'feedback', sinceDay)).records;

  const trainingRef = promoted
    ? await loadTrainingReference(promoted.card.dataset.name, { maxImages: options.maxReferenceImages, onProgress: options.onProgress })
    : { unavailable: 'no model is promoted' };
  const predictionRef = promoted ? await loadPredictionReference(promoted.card) : null;

  const partial = {
    schema: 1 as const,
    createdAt: now.toISOString(),
    window: { days: t.windowDays, sinceDay },
    model: promoted
      ? {
          version: promoted.version,
          threshold: promoted.card.threshold,
          imageSize: promoted.card.imageSize,
          dataset: promoted.card.dataset.name,
          ...(pointer && pointer.version !== promoted.version ? { promotedVersion: pointer.version } : {}),
        }
      : null,
    thresholds: t,
    drift: driftSection(trainingRef, predictions, t),
    predictions: predictionSection(predictionRef, ofModel, t),
    feedback: feedbackSection(feedback, t),
    serving,
  };
  const all = collectAlerts(partial);
  const report: MonitoringReport = {
    ...partial,
    alerts: all.filter((a) => a.severity === 'critical'),
    warnings: all.filter((a) => a.severity === 'warning'),
  };
  let file: string | null = null;
  if (options.save !== false) {
    file = path.join(dir, MONITORING_REPORT_FILE);
    await writeJsonAtomic(file, report);
  }
  return { report, file };
}
