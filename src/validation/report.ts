import path from 'node:path';
import { paths } from '../storage/paths.js';
import { readJson, writeJsonAtomic } from '../storage/atomic.js';
import type { ValidationReport } from './types.js';

export function validationReportPath(dataset: string): string {
  return path.join(paths.dataset(dataset), 'validation.json');
}

/** Write the report atomically to `<data root>/datasets/<name>/validation.json`; returns the file. */
export async function saveValidationReport(report: ValidationReport, file = validationReportPath(report.dataset)): Promise<string> {
  await writeJsonAtomic(file, report);
  return file;
}

export async function loadValidationReport(dataset: string): Promise<ValidationReport> {
  return readJson<ValidationReport>(validationReportPath(dataset));
}

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** A readable table: one line per check with its status and summary. */
export function formatValidationReport(report: ValidationReport, width = 160): string {
  const idWidth = Math.max(...report.checks.map((c) => c.id.length), 5);
  const lines = [
    `Validation of ${report.dataset}: ${report.counts.accepted} accepted / ${report.counts.entries} files, ` +
      `${report.summary.pass} pass, ${report.summary.warn} warn, ${report.summary.fail} fail (${(report.timings.total / 1000).toFixed(1)} s)`,
    '',
    `${'check'.padEnd(idWidth)}  status  summary`,
    `${'-'.repeat(idWidth)}  ------  ${'-'.repeat(7)}`,
  ];
  const indent = ' '.repeat(idWidth + 10);
  for (const c of report.checks) {
    const words = c.summary.split(' ');
    const wrapped: string[] = [];
    let line = '';
    for (const w of words) {
      if (line && line.length + w.length + 1 > Math.max(40, width - indent.length)) {
        wrapped.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) wrapped.push(line);
    lines.push(`${c.id.padEnd(idWidth)}  ${MARK[c.status]}    ${wrapped[0] ?? ''}`);
    for (const extra of wrapped.slice(1)) lines.push(indent + extra);
  }
  return lines.join('\n');
}
