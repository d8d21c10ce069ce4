import { ingestDataset, loadDatasetManifest, loadDatasetSummary, loadPreparedDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import type { DataSource, ManifestEntry, PreparedDataset } from '../data/types.js';
import type { ValidationConfigInput } from './config.js';
import { saveValidationReport } from './report.js';
import type { ValidationReport } from './types.js';
import { validateDataset } from './validate.js';
import type { Progress } from '../progress/index.js';

export interface ValidateStoredOptions {
  /** Data set name under `<data root>/datasets`. */
  name: string;
  /** A source spec (folder path, ...) to ingest first; ingest reuses its caches, so this is cheap when nothing changed. */
  spec?: string;
  groups?: Record<string, string>;
  /** Prepared image size when ingesting. */
  size?: number;
  config?: ValidationConfigInput;
  /** Write `validation.json` next to the data set (default true). */
  save?: boolean;
  onProgress?: Progress;
}

/**
 * Validate an ingested data set (ingesting `spec` first when given): its manifest, the source's files and the
 * prepared splits. Saves the report atomically to `<data root>/datasets/<name>/validation.json`.
 */
export async function validateStoredDataset(opts: ValidateStoredOptions): Promise<{ report: ValidationReport; file?: string }> {
  let manifest: ManifestEntry[];
  let prepared: PreparedDataset;
  let source: DataSource;
  if (opts.spec) {
    source = await openSource(opts.spec, { groups: opts.groups });
    const ingested = await ingestDataset({
      source, name: opts.name, size: opts.size, mix: opts.config?.mix, onProgress: opts.onProgress,
    });
    manifest = ingested.manifest;
    prepared = ingested.prepared;
  } else {
    const summary = await loadDatasetSummary(opts.name);
    manifest = await loadDatasetManifest(opts.name);
    prepared = await loadPreparedDataset(opts.name);
    source = await openSource(summary.source, { groups: opts.groups });
  }
  const report = await validateDataset({
    dataset: opts.name,
    entries: manifest,
    readImage: (e) => source.read({ path: e.path, group: e.group, source: e.source }),
    prepared,
    config: opts.config,
    onProgress: opts.onProgress,
  });
  const file = opts.save === false ? undefined : await saveValidationReport(report);
  return { report, file };
}
