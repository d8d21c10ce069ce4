import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Executor } from '../jobs/job.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { SourcePrediction } from './predict-source.js';
import { predictSpec } from './predict-spec.js';
import type { Progress } from '../progress/index.js';

export interface InferOptions {
  /** Folder, `s3://bucket/prefix`, or synthetic spec. Folders may be flat or in the `<group>/*` layout. */
  data: string;
  /** Output file: `.csv`, `.jsonl` or `.json`. */
  out: string;
  model?: number | string;
  /** Score the images as prediction-shard jobs on this executor (a queue or a local pool); default this process. */
  executor?: Executor;
  /** Images per job with an executor (default 256). */
  shardSize?: number;
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
  const { entry, rows } = await predictSpec(opts.data, { model: opts.model, executor: opts.executor, shardSize: opts.shardSize, onProgress: opts.onProgress });
  const withVersion = rows.map((r) => ({ ...r, model_version: entry.version }));
  await writeFileAtomic(opts.out, format(withVersion, ext));
  return {
    out: path.resolve(opts.out),
    version: entry.version,
    threshold: entry.card.threshold,
    n: rows.length,
    cats: rows.filter((r) => r.isCat).length,
    rejected: rows.filter((r) => r.error).length,
  };
}

function format(rows: Array<SourcePrediction & { model_version: number }>, ext: string): string {
  if (ext === '.json') return JSON.stringify(rows, null, 2) + '\n';
  if (ext === '.jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return stringify(rows, { header: true, columns: ['path', 'group', 'probability', 'isCat', 'error', 'model_version'] });
}
