/**
 * On-disk shapes of experiment tracking. Layout under `paths.runs()`:
 *
 *   <runId>/run.json        RunRecord, rewritten atomically on every change (never half-written)
 *   <runId>/epochs.jsonl    one EpochRecord per line, appended while training (a torn last line is ignored)
 *   <runId>/artifacts/...   files written or copied by the run (model dir, evaluation.json, validation report, ...)
 *
 * Run ids sort by start time: `YYYYMMDDTHHMMSSmmmZ-<6 hex>` (e.g. `20261126T230501123Z-3fa9c1`).
 *
 * Readers: a record with status 'running' whose process is gone is a crashed run. `listRuns()`/`getRun()` from
 * `src/tracking/runs.js` report that as `effectiveStatus: 'crashed'`. Only `layout.ts` joins these paths: ask
 * the store (`readEpochs()`, `artifactPath()`, `readArtifactJson()`, `Run.artifactPath()`), never build them.
 * A run directory whose run.json is missing or not valid JSON is reported in `broken` by listRuns, never thrown.
 */

export const RUN_SCHEMA = 1;

export type RunStatus = 'running' | 'finished' | 'failed';
/** What a reader should show: a 'running' record whose process is dead is 'crashed'. */
export type EffectiveRunStatus = RunStatus | 'crashed';

export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };

export interface ArtifactEntry {
  /** Path relative to `<runId>/artifacts/`, '/' separators (a directory artifact lists its root, e.g. `model`). */
  name: string;
  kind: 'file' | 'dir';
  bytes: number;
  createdAt: string;
}

export interface RunRecord {
  schema: typeof RUN_SCHEMA;
  id: string;
  name: string;
  /** Parent run id (tuning trials point at their study run), else null. */
  parentId: string | null;
  status: RunStatus;
  /** ISO 8601 UTC. */
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** Process that owns a running run; used to detect crashes. */
  pid: number;
  hostname: string;
  params: Record<string, ParamValue>;
  /** Final metrics (e.g. test_precision, test_f1, val_loss). */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** Data set the run used: name and manifest hash (sha256 over accepted manifest entries and settings). */
  dataset: { name: string | null; manifestHash: string | null } | null;
  /** `git rev-parse HEAD` at start; null when git is unavailable. `dirty` null when unknown. */
  git: { commit: string | null; dirty: boolean | null };
  /** tfjs backend name ('wasm', 'cpu', 'tensorflow') when known. */
  backend: string | null;
  /** Named phase durations in milliseconds, e.g. { prepare: 1200, train: 54000, evaluate: 800 }. */
  timings: Record<string, number>;
  artifacts: ArtifactEntry[];
  /** Set when status is 'failed'. */
  error: { message: string; stack?: string } | null;
}

/** One line of `epochs.jsonl`. */
export interface EpochRecord {
  epoch: number;
  /** ISO 8601 UTC when the epoch ended. */
  time: string;
  /** e.g. { loss: 0.41, acc: 0.82, val_loss: 0.45, val_acc: 0.8 } */
  metrics: Record<string, number>;
}

/** A run as readers get it from listRuns/getRun. */
export interface RunView extends RunRecord {
  effectiveStatus: EffectiveRunStatus;
  /** Absolute path of the run directory. */
  dir: string;
}

export interface BrokenRun {
  id: string;
  dir: string;
  problem: string;
}

export interface RunList {
  runs: RunView[];
  broken: BrokenRun[];
}
