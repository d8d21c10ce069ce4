import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { appendLines, readJsonLines } from '../storage/jsonl.js';

/**
 * Daily JSON-lines logs under the monitoring folder: `<kind>-YYYY-MM-DD.jsonl` (kinds: `predictions`, `feedback`).
 * The server appends; monitoring reads. A torn last line (a crash mid-write) is skipped by the reader.
 */
export type LogKind = 'predictions' | 'feedback';

const FILE_RE = /^(predictions|feedback)-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function logFile(dir: string, kind: LogKind, isoTime: string): string {
  return path.join(dir, `${kind}-${isoTime.slice(0, 10)}.jsonl`);
}

/** Buffers lines and appends them to the day's file at most every `flushMs` (one write per file per flush). */
export class JsonlAppender {
  private buffer = new Map<string, string[]>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly flushMs = 500,
  ) {}

  append<T extends { time: string }>(kind: LogKind, record: T): void {
    const file = logFile(this.dir, kind, record.time);
    const lines = this.buffer.get(file) ?? [];
    lines.push(JSON.stringify(record));
    this.buffer.set(file, lines);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        // A failed write (disk full, ...) loses these log lines but never the server; the next flush tries again.
        this.flush().catch(() => undefined);
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Write everything buffered. Errors are reported to the caller of the returned promise, lines are not retried. */
  flush(): Promise<void> {
    const pending = this.buffer;
    this.buffer = new Map();
    this.flushing = this.flushing.catch(() => undefined).then(async () => {
      if (pending.size === 0) return;
      for (const [file, lines] of pending) await appendLines(file, lines);
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}

/** Days (YYYY-MM-DD) of the log files of a kind, oldest first. */
export function listLogDays(dir: string, kind: LogKind): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => FILE_RE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === kind)
    .map((m) => m[2])
    .sort();
}

/** Records of a kind whose day is on or after `sinceDay` (YYYY-MM-DD; all when undefined). Bad lines are skipped. */
export async function readLog<T>(dir: string, kind: LogKind, sinceDay?: string): Promise<{ records: T[]; badLines: number }> {
  const records: T[] = [];
  let badLines = 0;
  for (const day of listLogDays(dir, kind)) {
    if (sinceDay && day < sinceDay) continue;
    const file = await readJsonLines<T>(path.join(dir, `${kind}-${day}.jsonl`));
    for (const r of file.records) records.push(r);
    badLines += file.badLines;
  }
  return { records, badLines };
}

/** Delete log files of both kinds whose day is before `beforeDay`. Returns the deleted file names. */
export async function deleteLogsBefore(dir: string, beforeDay: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const kind of ['predictions', 'feedback'] as const) {
    for (const day of listLogDays(dir, kind)) {
      if (day >= beforeDay) continue;
      const name = `${kind}-${day}.jsonl`;
      await fsp.rm(path.join(dir, name), { force: true });
      deleted.push(name);
    }
  }
  return deleted;
}
