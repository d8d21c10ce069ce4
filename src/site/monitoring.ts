import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { exists } from '../storage/atomic.js';
import { listLogDays, readLog } from '../monitoring/event-log.js';
import { MONITORING_REPORT_FILE } from '../monitoring/report.js';
import type { MonitoringReport, PredictionLogEntry } from '../monitoring/types.js';

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

export interface MonitoringPageData {
  /** `<monitoring>/report.json` as `areyouacat monitor` wrote it; null when there is none or it is unreadable. */
  report: MonitoringReport | null;
  /** Daily summaries of the prediction and feedback logs, oldest first (at most `maxDays` newest days). */
  days: MonitoringDay[];
  problems: string[];
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

function p95(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]);
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

/** The monitoring report and daily summaries of the server's logs under `paths.monitoring()`. */
export async function monitoringPageData(maxDays = 90): Promise<MonitoringPageData> {
  const dir = paths.monitoring();
  const out: MonitoringPageData = { report: null, days: [], problems: [] };
  if (!(await exists(dir))) return out;
  out.report = await readReport(dir, out.problems);
  const allDays = [...new Set([...listLogDays(dir, 'predictions'), ...listLogDays(dir, 'feedback')])].sort();
  const since = allDays[Math.max(0, allDays.length - maxDays)];
  if (!since) return out;
  const predictions = await readLog<PredictionLogEntry>(dir, 'predictions', since);
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
