import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { exists, readJson } from '../storage/atomic.js';
import type { ValidationReport } from '../validation/types.js';

export interface ValidationPageData {
  /** One report per data set that has been validated, newest first. */
  reports: { dataset: string; report: ValidationReport }[];
  /** Data sets whose validation.json could not be read. */
  unreadable: { dataset: string; problem: string }[];
}

/** Every data set's validation report (`paths.dataset(name)/validation.json`). */
export async function validationPageData(): Promise<ValidationPageData> {
  const root = paths.datasets();
  const out: ValidationPageData = { reports: [], unreadable: [] };
  if (!(await exists(root))) return out;
  for (const name of (await fs.readdir(root)).sort()) {
    const file = path.join(paths.dataset(name), 'validation.json');
    if (!(await exists(file))) continue;
    try {
      out.reports.push({ dataset: name, report: await readJson<ValidationReport>(file) });
    } catch (err) {
      out.unreadable.push({ dataset: name, problem: (err as Error).message });
    }
  }
  out.reports.sort((a, b) => b.report.createdAt.localeCompare(a.report.createdAt));
  return out;
}
