import type { MonitoringReport, SectionStatus } from './types.js';

/**
 * The one-line verdict of a monitoring report, for the page's banner: alerts, warnings, all checks ok, or - when
 * no section had enough data to be judged - "not judged yet", never "all checks ok" in green.
 */
export interface MonitoringVerdict {
  tone: 'alert' | 'warn' | 'ok' | 'not-judged';
  headline: string;
  detail: string;
  /** Sections that were judged, and those that had too little data or were unavailable. */
  judged: string[];
  notJudged: string[];
}

const SECTIONS = [
  ['drift', 'input drift'],
  ['predictions', 'prediction shift'],
  ['feedback', 'real-world precision and recall'],
  ['serving', 'serving'],
] as const;

const JUDGED: SectionStatus[] = ['ok', 'warn', 'alert'];

export function monitoringVerdict(report: Pick<MonitoringReport, 'alerts' | 'warnings' | 'drift' | 'predictions' | 'feedback' | 'serving'>): MonitoringVerdict {
  const judged: string[] = [];
  const notJudged: string[] = [];
  for (const [key, name] of SECTIONS) (JUDGED.includes(report[key].status) ? judged : notJudged).push(name);
  const alerts = report.alerts.length;
  const warnings = report.warnings.length;
  const unjudged = notJudged.length ? ` Not judged (too little data, or unavailable): ${notJudged.join(', ')}.` : '';
  if (alerts) {
    return { tone: 'alert', headline: `${alerts} critical ${alerts === 1 ? 'alert' : 'alerts'}${warnings ? ` and ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : ''}`, detail: unjudged.trim(), judged, notJudged };
  }
  if (warnings) return { tone: 'warn', headline: `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`, detail: unjudged.trim(), judged, notJudged };
  if (judged.length === 0) {
    return {
      tone: 'not-judged',
      headline: 'Not enough data to judge yet',
      detail: `No check had enough data to pass or fail: ${notJudged.join(', ')}. Each section below says how much it has and how much it needs.`,
      judged,
      notJudged,
    };
  }
  return {
    tone: 'ok',
    headline: notJudged.length ? `No alerts in the ${judged.length} checks judged` : 'All checks ok',
    detail: `Judged and ok: ${judged.join(', ')}.${unjudged}`,
    judged,
    notJudged,
  };
}
