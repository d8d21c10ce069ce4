import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { openSource } from '../data/sources/index.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { predictSource, type SourcePrediction } from './predict-source.js';
import { loadRegisteredModel } from './registered-model.js';
import type { Progress } from '../progress/index.js';

export interface InferOptions {
  /** Folder, `s3://bucket/prefix`, or synthetic spec. Folders may be flat or in the `<group>/*` layout. */
  data: string;
  /** Output file: `.csv`, `.jsonl` or `.json`. */
  out: string;
  model?: number | string;
  onProgress?: Progress;
}

export interface InferResult {
  out: string;
  version: number;
  threshold: number;
  n: number;
  cats: number;
  rejected: number;
}

/** Batch predictions for every image of a source with the promoted model (or a given version), written atomically. */
export async function runInferencePipeline(opts: InferOptions): Promise<InferResult> {
  const ext = path.extname(opts.out).toLowerCase();
  if (!['.csv', '.jsonl', '.json'].includes(ext)) throw new Error(`--out must end in .csv, .jsonl or .json (got "${opts.out}")`);
  const registered = await loadRegisteredModel(opts.model);
  try {
    const source = await openSource(opts.data);
    const rows = await predictSource(source, registered, { onProgress: opts.onProgress });
    const withVersion = rows.map((r) => ({ ...r, model_version: registered.version }));
    await writeFileAtomic(opts.out, format(withVersion, ext));
    return {
      out: path.resolve(opts.out),
      version: registered.version,
      threshold: registered.card.threshold,
      n: rows.length,
      cats: rows.filter((r) => r.isCat).length,
      rejected: rows.filter((r) => r.error).length,
    };
  } finally {
    registered.model.dispose();
  }
}

function format(rows: Array<SourcePrediction & { model_version: number }>, ext: string): string {
  if (ext === '.json') return JSON.stringify(rows, null, 2) + '\n';
  if (ext === '.jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return stringify(rows, { header: true, columns: ['path', 'group', 'probability', 'isCat', 'error', 'model_version'] });
}
