import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic.js';
import { appendJsonLine } from '../storage/jsonl.js';
import { checkArtifactName } from './ids.js';
import { artifactPathIn, artifactsDirIn, epochsFile, runRecordFile } from './layout.js';
import type { ArtifactEntry, EpochRecord, ParamValue, RunRecord } from './types.js';

async function sizeOf(p: string): Promise<{ kind: 'file' | 'dir'; bytes: number }> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return { kind: 'file', bytes: st.size };
  let bytes = 0;
  for (const e of await fs.readdir(p, { withFileTypes: true })) bytes += (await sizeOf(path.join(p, e.name))).bytes;
  return { kind: 'dir', bytes };
}

/** Params as JSON values: undefined and functions are dropped, NaN/Infinity become null (what JSON would do). */
export function toParams(params: object): Record<string, ParamValue> {
  const json = JSON.stringify(params ?? {});
  const value = JSON.parse(json) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('params must be an object');
  return value as Record<string, ParamValue>;
}

/**
 * A tracked run in progress. Every change rewrites run.json atomically; calls are queued so they never
 * interleave. Once finished or failed, the run refuses further changes.
 */
export class Run {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private rec: RunRecord,
  ) {}

  get id(): string {
    return this.rec.id;
  }

  /** A copy of the current record. */
  get record(): RunRecord {
    return structuredClone(this.rec);
  }

  get artifactsDir(): string {
    return artifactsDirIn(this.dir);
  }

  /** Where the artifact `name` (a relative path, e.g. `model` or `evaluation.json`) is or will be written. */
  artifactPath(name: string): string {
    return artifactPathIn(this.dir, name);
  }

  private change<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.rec.status !== 'running') throw new Error(`run ${this.rec.id} is already ${this.rec.status}; cannot ${what}`);
      return fn();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private save(): Promise<void> {
    return writeJsonAtomic(runRecordFile(this.dir), this.rec);
  }

  /** Merge params into the run. Any plain object works (e.g. a hyperparameter interface); values are stored as JSON. */
  logParams(params: object): Promise<void> {
    return this.change('log params', async () => {
      Object.assign(this.rec.params, toParams(params));
      await this.save();
    });
  }

  logMetrics(metrics: Record<string, number | null | undefined>): Promise<void> {
    return this.change('log metrics', async () => {
      for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) this.rec.metrics[k] = v;
      await this.save();
    });
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.change('set tags', async () => {
      Object.assign(this.rec.tags, tags);
      await this.save();
    });
  }

  setDataset(name: string | null, manifestHash: string | null): Promise<void> {
    return this.change('set the data set', async () => {
      this.rec.dataset = { name, manifestHash };
      await this.save();
    });
  }

  setBackend(backend: string): Promise<void> {
    return this.change('set the backend', async () => {
      this.rec.backend = backend;
      await this.save();
    });
  }

  /** Record how long a phase took (milliseconds). */
  logTiming(name: string, ms: number): Promise<void> {
    return this.change('log a timing', async () => {
      this.rec.timings[name] = ms;
      await this.save();
    });
  }

  /** Run `fn` and record its duration under `name`, also when it throws. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      await this.logTiming(name, Math.round(performance.now() - t0));
    }
  }

  /** Append one epoch to epochs.jsonl (one line, one write). */
  logEpoch(epoch: number, metrics: Record<string, number>): Promise<void> {
    return this.change('log an epoch', async () => {
      const clean: Record<string, number> = {};
      for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) clean[k] = v;
      const line: EpochRecord = { epoch, time: new Date().toISOString(), metrics: clean };
      await appendJsonLine(epochsFile(this.dir), line);
    });
  }

  private async recordArtifact(name: string): Promise<ArtifactEntry> {
    const { kind, bytes } = await sizeOf(this.artifactPath(name));
    const entry: ArtifactEntry = { name, kind, bytes, createdAt: new Date().toISOString() };
    this.rec.artifacts = this.rec.artifacts.filter((a) => a.name !== name).concat(entry);
    await this.save();
    return entry;
  }

  /** Write a file under artifacts/ atomically. Objects are written as JSON. */
  async writeArtifact(name: string, content: string | Uint8Array | object): Promise<ArtifactEntry> {
    const rel = checkArtifactName(name);
    return this.change('write an artifact', async () => {
      const data = typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content, null, 2) + '\n';
      await writeFileAtomic(this.artifactPath(rel), data);
      return this.recordArtifact(rel);
    });
  }

  /**
   * Copy a file or a whole directory (e.g. a saved tfjs model) into artifacts/. A directory is copied beside
   * its destination first and renamed into place, so it is never seen half-copied.
   */
  async copyArtifact(name: string, source: string): Promise<ArtifactEntry> {
    const rel = checkArtifactName(name);
    return this.change('copy an artifact', async () => {
      const st = await fs.stat(source).catch(() => null);
      if (!st) throw new Error(`cannot copy artifact "${rel}": ${source} does not exist`);
      const dest = this.artifactPath(rel);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
      await fs.cp(source, tmp, { recursive: true });
      await fs.rm(dest, { recursive: true, force: true });
      await fs.rename(tmp, dest);
      return this.recordArtifact(rel);
    });
  }

  private end(status: 'finished' | 'failed', error: RunRecord['error']): Promise<void> {
    return this.change(status === 'finished' ? 'finish' : 'fail', async () => {
      const now = new Date();
      this.rec.status = status;
      this.rec.endedAt = now.toISOString();
      this.rec.durationMs = now.getTime() - Date.parse(this.rec.startedAt);
      this.rec.error = error;
      await this.save();
    });
  }

  /** Mark the run finished, optionally logging final metrics first. */
  async finish(metrics?: Record<string, number | null | undefined>): Promise<void> {
    if (metrics) await this.logMetrics(metrics);
    await this.end('finished', null);
  }

  /** Mark the run failed with the error that ended it. */
  fail(err: unknown): Promise<void> {
    const e = err instanceof Error ? err : new Error(String(err));
    return this.end('failed', { message: e.message, stack: e.stack });
  }

  /** Whether the run is still open for logging. */
  get open(): boolean {
    return this.rec.status === 'running';
  }
}
