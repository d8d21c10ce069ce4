import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { exists, readJson } from '../storage/atomic.js';
import type { ValidationReport } from '../validation/types.js';

export interface ValidationPageData {
  /** One report per data set that has been validated, newest first; `facts` per check id (see evidenceFacts). */
  reports: { dataset: string; report: ValidationReport; facts: Record<string, EvidenceFact[]> }[];
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
      const report = await readJson<ValidationReport>(file);
      out.reports.push({ dataset: name, report, facts: Object.fromEntries(report.checks.map((c) => [c.id, evidenceFacts(c.evidence ?? {})])) });
    } catch (err) {
      out.unreadable.push({ dataset: name, problem: (err as Error).message });
    }
  }
  out.reports.sort((a, b) => b.report.createdAt.localeCompare(a.report.createdAt));
  return out;
}

/** One line of a check's evidence in the words a data scientist uses: "rejected files: none", "duplicate clusters: 67". */
export interface EvidenceFact {
  label: string;
  value: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const count = (x: number) => (x === 0 ? 'none' : x.toLocaleString('en-US'));
const isRecordOfNumbers = (v: unknown): v is Record<string, number> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number');
const listOf = (v: Record<string, number>, each: (x: number) => string = count) => {
  const parts = Object.entries(v).filter(([, x]) => x !== 0).map(([k, x]) => `${k} ${each(x)}`);
  return parts.length ? parts.join(', ') : 'none';
};

/** Label and formatting of the evidence fields the checks report, by field name. */
const FIELDS: Record<string, { label: string; format?: (v: unknown) => string | null }> = {
  total: { label: 'files' },
  accepted: { label: 'accepted images' },
  rejected: { label: 'rejected files' },
  selected: { label: 'selected images (the mix)' },
  rejectedByReason: { label: 'rejected files by reason', format: (v) => (Array.isArray(v) ? (v.length ? (v as unknown[]).map((r) => (Array.isArray(r) ? `${String(r[0])} ${String(r[1])}` : typeof r === 'object' && r ? Object.values(r as Record<string, unknown>).join(' ') : String(r))).join(', ') : 'none') : isRecordOfNumbers(v) ? listOf(v) : null) },
  formats: { label: 'file formats', format: (v) => (isRecordOfNumbers(v) ? listOf(v) : null) },
  problemCounts: { label: 'accepted images with problems', format: (v) => (isRecordOfNumbers(v) ? listOf(v) : null) },
  problemFraction: { label: 'share of accepted images with problems', format: (v) => (typeof v === 'number' ? pct(v) : null) },
  target: { label: 'target mix', format: (v) => (isRecordOfNumbers(v) ? listOf(v, pct) : null) },
  labelShare: { label: 'share of cats per split', format: (v) => (isRecordOfNumbers(v) ? Object.entries(v).map(([k, x]) => `${k} ${pct(x)}`).join(', ') : null) },
  redundant: { label: 'redundant copies' },
  fraction: { label: 'share of images', format: (v) => (typeof v === 'number' ? pct(v) : null) },
  clusterCount: { label: 'duplicate clusters' },
  conflictingGroups: { label: 'duplicate clusters with conflicting groups' },
  count: { label: 'duplicate clusters across splits' },
  bySplits: { label: 'duplicate clusters by splits crossed', format: (v) => (isRecordOfNumbers(v) ? listOf(v) : null) },
  listedImages: { label: 'outlier images listed' },
  mitigatedByPreparation: {
    label: 'shortcut gone after preparation',
    format: (v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no, it survives preparation') : v === null ? 'no shortcut in the files to remove' : null),
  },
  preparedSize: { label: 'prepared image size', format: (v) => (typeof v === 'number' ? `${v}×${v} px` : null) },
  candidateCount: { label: 'label-error candidates' },
};

/** Field names written out as words, for fields the table above does not know: `listedImages` -> `listed images`. */
export function fieldWords(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
}

/**
 * The plain facts of a check's evidence (numbers, yes/no, short per-key counts) in words; lists of records, images
 * and distributions are left to charts, galleries and the folded raw details.
 */
export function evidenceFacts(evidence: Record<string, unknown>): EvidenceFact[] {
  const facts: EvidenceFact[] = [];
  for (const [key, v] of Object.entries(evidence)) {
    if (key === 'thresholds' || key === 'limits' || key === 'config') continue;
    const field = FIELDS[key];
    let value: string | null = null;
    if (field?.format) value = field.format(v);
    else if (typeof v === 'number') value = Number.isInteger(v) ? count(v) : String(Number(v.toFixed(4)));
    else if (typeof v === 'boolean') value = v ? 'yes' : 'no';
    else if (typeof v === 'string' && v.length <= 80) value = v;
    else if (isRecordOfNumbers(v) && Object.keys(v).length <= 12) value = listOf(v);
    else if (Array.isArray(v) && v.length === 0) value = 'none';
    if (value != null) facts.push({ label: field?.label ?? fieldWords(key), value });
  }
  return facts;
}
