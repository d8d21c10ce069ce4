import { monitoringVerdict, type MonitoringVerdict } from '../monitoring/verdict.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { exists } from '../storage/atomic.js';
import { listLogDays, readLog } from '../monitoring/event-log.js';
import { MONITORING_REPORT_FILE } from '../monitoring/report.js';
import type { MonitoringReport, PredictionLogEntry } from '../monitoring/types.js';
import type { ServingHistoryView } from '../monitoring/serving-history.js';
import { quantileSorted, sorted } from '../stats/quantiles.js';

/** One day of the served model's logs, summarised for the charts over time. */
export interface MonitoringDay {
  day: string;
  predictions: number;
  /** Share of predictions that said "cat"; null without predictions. */
  positiveRate: number | null;
  meanProbability: number | null;
  p95LatencyMs: number | null;
  feedback: number;
  /** Share of feedback answers that agreed with the prediction shown; null without feedback. */
  feedbackAgreement: number | null;
}

/** One hour of served predictions (from the prediction log): request rate and latency percentiles. */
export interface MonitoringHour {
  /** Start of the hour, ISO 8601 UTC (`2026-12-01T09:00:00Z`). */
  hour: string;
  predictions: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p99LatencyMs: number | null;
}

export interface MonitoringPageData {
  /**
   * The monitoring report: `<monitoring>/report.json` as `areyouacat monitor` wrote it (built site), or one built
   * just now by the server (`GET /api/monitoring`); null when there is none or it is unreadable.
   */
  report: MonitoringReport | null;
  /** Where the numbers come from: the report file the site was built with, or the running server. */
  source: 'file' | 'server';
  /** Daily summaries of the prediction and feedback logs, oldest first (at most `maxDays` newest days). */
  days: MonitoringDay[];
  /** The last `HOURS` hours of predictions, oldest first (hours without predictions included, with zero). */
  hours: MonitoringHour[];
  /**
   * Only from the running server (`GET /api/monitoring`): its counters minute by minute over the last hours
   * (requests, 4xx and 5xx answers, predictions, predict latency percentiles).
   */
  servingHistory?: ServingHistoryView;
  /** The report's verdict in words (the banner): null without a report. */
  verdict: MonitoringVerdict | null;
  problems: string[];
}

const HOURS = 24;

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

function p95(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]);
}

const quantile = (xs: number[], q: number) => (xs.length ? round(quantileSorted(sorted(xs), q)) : null);

/** Hourly request counts and latency percentiles of the predictions in the `HOURS` hours up to `now`. */
export function hourlyPredictions(records: readonly Pick<PredictionLogEntry, 'time' | 'latencyMs'>[], now: Date): MonitoringHour[] {
  const end = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const start = end - (HOURS - 1) * 3_600_000;
  const latencies: number[][] = Array.from({ length: HOURS }, () => []);
  const counts = new Array<number>(HOURS).fill(0);
  for (const r of records) {
    const t = Date.parse(r?.time ?? '');
    if (!Number.isFinite(t) || t < start || t >= end + 3_600_000) continue;
    const i = Math.floor((t - start) / 3_600_000);
    counts[i]++;
    if (typeof r.latencyMs === 'number') latencies[i].push(r.latencyMs);
  }
  return counts.map((n, i) => ({
    hour: new Date(start + i * 3_600_000).toISOString().replace('.000Z', 'Z'),
    predictions: n,
    p50LatencyMs: quantile(latencies[i], 0.5),
    p95LatencyMs: quantile(latencies[i], 0.95),
    p99LatencyMs: quantile(latencies[i], 0.99),
  }));
}

interface FeedbackLine {
  time?: string;
  answer?: string;
  prediction?: { decision?: string };
}

async function readReport(dir: string, problems: string[]): Promise<MonitoringReport | null> {
  const file = path.join(dir, MONITORING_REPORT_FILE);
  if (!(await exists(file))) return null;
  try {
    const report = JSON.parse(await fs.readFile(file, 'utf8')) as MonitoringReport;
    if (report?.schema !== 1) throw new Error(`unknown schema ${JSON.stringify(report?.schema)}`);
    return report;
  } catch (err) {
    problems.push(`${MONITORING_REPORT_FILE} is unreadable: ${(err as Error).message}`);
    return null;
  }
}

/**
 * The monitoring report and daily and hourly summaries of the server's logs under `paths.monitoring()`. `live`:
 * a report just built (the server's /api/monitoring) instead of the saved report file.
 */
export async function monitoringPageData(maxDays = 90, live: { report: MonitoringReport; now?: Date } | null = null): Promise<MonitoringPageData> {
  const dir = paths.monitoring();
  const now = live?.now ?? new Date();
  const out: MonitoringPageData = { report: live?.report ?? null, source: live ? 'server' : 'file', days: [], hours: [], verdict: null, problems: [] };
  out.verdict = out.report ? monitoringVerdict(out.report) : null;
  if (!(await exists(dir))) return out;
  if (!live) {
    out.report = await readReport(dir, out.problems);
    out.verdict = out.report ? monitoringVerdict(out.report) : null;
  }
  const allDays = [...new Set([...listLogDays(dir, 'predictions'), ...listLogDays(dir, 'feedback')])].sort();
  const since = allDays[Math.max(0, allDays.length - maxDays)];
  if (!since) return out;
  const predictions = await readLog<PredictionLogEntry>(dir, 'predictions', since);
  out.hours = hourlyPredictions(predictions.records, now);
  const feedback = await readLog<FeedbackLine>(dir, 'feedback', since);
  const bad = predictions.badLines + feedback.badLines;
  if (bad) out.problems.push(`${bad} unreadable log lines skipped`);
  for (const day of allDays.filter((d) => d >= since)) {
    const p = predictions.records.filter((r) => typeof r?.time === 'string' && r.time.startsWith(day));
    const f = feedback.records.filter((r) => typeof r?.time === 'string' && r.time.startsWith(day));
    const probs = p.map((r) => r.probability).filter((x): x is number => typeof x === 'number');
    const agreed = f.filter((r) => r.answer && r.prediction?.decision === r.answer).length;
    out.days.push({
      day,
      predictions: p.length,
      positiveRate: p.length ? round(p.filter((r) => r.decision === 'cat').length / p.length) : null,
      meanProbability: mean(probs),
      p95LatencyMs: p95(p.map((r) => r.latencyMs).filter((x): x is number => typeof x === 'number')),
      feedback: f.length,
      feedbackAgreement: f.length ? round(agreed / f.length) : null,
    });
  }
  return out;
}
