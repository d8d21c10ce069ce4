import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../storage/atomic.js';
import { readJsonLines } from '../storage/jsonl.js';
import { gitInfo, processAlive } from './environment.js';
import { checkRunId, newRunId } from './ids.js';
import { artifactPathIn, artifactsDirIn, epochsFile, runDirOf, runRecordFile, runsRoot } from './layout.js';
import { Run, toParams } from './run.js';
import { RUN_SCHEMA, type EpochRecord, type RunList, type RunRecord, type RunView } from './types.js';

export interface StartRunOptions {
  name: string;
  parentId?: string | null;
  /** Any plain object (e.g. a hyperparameter interface); stored as JSON values. */
  params?: object;
  tags?: Record<string, string>;
  dataset?: { name: string | null; manifestHash: string | null } | null;
  backend?: string | null;
  /** Folder holding the runs; defaults to paths.runs(). */
  root?: string;
  /** Folder whose git commit is recorded; defaults to the current directory. */
  cwd?: string;
}

/** Start a run: creates `<root>/<id>/` and writes its run.json (status 'running'). */
export async function startRun(opts: StartRunOptions): Promise<Run> {
  if (!opts.name?.trim()) throw new Error('a run needs a name');
  if (opts.parentId) checkRunId(opts.parentId);
  const root = runsRoot(opts.root);
  await fs.mkdir(root, { recursive: true });
  const git = await gitInfo(opts.cwd);
  for (let attempt = 0; ; attempt++) {
    const id = newRunId();
    const dir = runDirOf(id, root);
    try {
      await fs.mkdir(dir); // not recursive: fails if the id is taken
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
      throw err;
    }
    const rec: RunRecord = {
      schema: RUN_SCHEMA,
      id,
      name: opts.name,
      parentId: opts.parentId ?? null,
      status: 'running',
      startedAt: new Date().toISOString(),
      endedAt: null,
      durationMs: null,
      pid: process.pid,
      hostname: os.hostname(),
      params: toParams(opts.params ?? {}),
      metrics: {},
      tags: { ...(opts.tags ?? {}) },
      dataset: opts.dataset ?? null,
      git,
      backend: opts.backend ?? null,
      timings: {},
      artifacts: [],
      error: null,
    };
    await writeJsonAtomic(runRecordFile(dir), rec);
    return new Run(dir, rec);
  }
}

/**
 * Run `fn` inside a tracked run: finished when it returns (unless it finished or failed the run itself),
 * failed with the error when it throws (the error is rethrown).
 */
export async function withRun<T>(opts: StartRunOptions, fn: (run: Run) => Promise<T>): Promise<T> {
  const run = await startRun(opts);
  try {
    const result = await fn(run);
    if (run.open) await run.finish();
    return result;
  } catch (err) {
    // Keep the original error even if recording the failure fails too (e.g. a full disk).
    if (run.open) await run.fail(err).catch(() => undefined);
    throw err;
  }
}

const STATUSES = new Set(['running', 'finished', 'failed']);

/** Why a parsed run.json cannot be used, or null when it looks like a RunRecord. */
function problemWith(rec: unknown, dirName: string): string | null {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return 'run.json does not hold an object';
  const r = rec as Partial<RunRecord>;
  if (r.id !== dirName) return `run.json has id ${JSON.stringify(r.id)}, expected ${dirName}`;
  if (!STATUSES.has(r.status as string)) return `run.json has unknown status ${JSON.stringify(r.status)}`;
  if (typeof r.startedAt !== 'string' || typeof r.name !== 'string') return 'run.json lacks name or startedAt';
  for (const key of ['params', 'metrics', 'tags', 'timings'] as const) {
    if (!r[key] || typeof r[key] !== 'object') return `run.json lacks ${key}`;
  }
  if (!Array.isArray(r.artifacts)) return 'run.json lacks artifacts';
  return null;
}

function view(rec: RunRecord, dir: string): RunView {
  let effectiveStatus: RunView['effectiveStatus'] = rec.status;
  // A running run whose process is gone crashed (only decidable on the machine that ran it).
  if (rec.status === 'running' && rec.hostname === os.hostname() && !processAlive(rec.pid)) effectiveStatus = 'crashed';
  return { ...rec, effectiveStatus, dir };
}

type ReadResult = { ok: true; run: RunView } | { ok: false; problem: string } | { ok: 'missing' };

async function readRunDir(dir: string, id: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await fs.readFile(runRecordFile(dir), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const dirThere = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
      return dirThere ? { ok: false, problem: 'run.json is missing' } : { ok: 'missing' };
    }
    return { ok: false, problem: `cannot read run.json: ${(err as Error).message}` };
  }
  let rec: unknown;
  try {
    rec = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `run.json is not valid JSON (${(err as Error).message})` };
  }
  const problem = problemWith(rec, id);
  return problem ? { ok: false, problem } : { ok: true, run: view(rec as RunRecord, dir) };
}

/** Every run under the runs folder, oldest first; unreadable run directories are listed in `broken`. */
export async function listRuns(opts: { root?: string } = {}): Promise<RunList> {
  const root = runsRoot(opts.root);
  const out: RunList = { runs: [], broken: [] };
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  const ids = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const id of ids) {
    const dir = path.join(root, id);
    const r = await readRunDir(dir, id);
    if (r.ok === true) out.runs.push(r.run);
    else if (r.ok === false) out.broken.push({ id, dir, problem: r.problem });
  }
  return out;
}

/** One run by id (a unique prefix is enough), or null when there is none; a damaged run is a clear error. */
export async function getRun(id: string, opts: { root?: string } = {}): Promise<RunView | null> {
  checkRunId(id);
  const root = runsRoot(opts.root);
  let resolved = id;
  const exact = await fs.stat(path.join(root, id)).then((s) => s.isDirectory(), () => false);
  if (!exact) {
    const names = await fs.readdir(root).catch(() => [] as string[]);
    const matches = names.filter((n) => n.startsWith(id) && !n.startsWith('.'));
    if (matches.length > 1) throw new Error(`run id "${id}" is ambiguous: ${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', ...' : ''}`);
    if (matches.length === 0) return null;
    resolved = matches[0];
  }
  const r = await readRunDir(path.join(root, resolved), resolved);
  if (r.ok === 'missing') return null;
  if (r.ok === false) throw new Error(`run ${resolved} is damaged: ${r.problem}`);
  return r.run;
}

/** A run, or the id of one (under `opts.root`, default paths.runs()). */
export type RunRef = Pick<RunView, 'dir'> | string;

const dirOf = (run: RunRef, root?: string): string => (typeof run === 'string' ? runDirOf(run, root) : run.dir);

/** The epoch lines of a run; a torn last line (a run still writing, or killed mid-write) is skipped. */
export async function readEpochs(run: RunRef, opts: { root?: string } = {}): Promise<EpochRecord[]> {
  return (await readJsonLines<EpochRecord>(epochsFile(dirOf(run, opts.root)))).records;
}

/** The folder holding a run's artifacts (`model/`, `evaluation.json`, ...). */
export function artifactsDir(run: RunRef, opts: { root?: string } = {}): string {
  return artifactsDirIn(dirOf(run, opts.root));
}

/** Where a run keeps the artifact `name` (a relative path such as `model` or `evaluation.json`). */
export function artifactPath(run: RunRef, name: string, opts: { root?: string } = {}): string {
  return artifactPathIn(dirOf(run, opts.root), name);
}

/** A JSON artifact of a run; an error naming the file when it is missing or damaged. */
export async function readArtifactJson<T>(run: RunRef, name: string, opts: { root?: string } = {}): Promise<T> {
  return readJson<T>(artifactPath(run, name, opts));
}
