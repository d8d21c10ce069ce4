import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../tracking/environment.js';

export interface LockOptions {
  /** Give up waiting after this many ms (default 30 s). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is stale (default 10 minutes); a holder refreshes it every third of that. */
  staleMs?: number;
}

interface Holder {
  pid: number;
  hostname: string;
  time: number;
}

const STALE_MS = 10 * 60_000;
/** An unreadable lock file younger than this may be one an older version is still writing. */
const UNREADABLE_GRACE_MS = 1000;
/** The takeover guard is held for a few file operations; older than this, its taker died. */
const TAKEOVER_STALE_MS = 5000;

const pause = () => new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.hostname === 'string' ? (h as Holder) : null;
  } catch {
    return null;
  }
}

/** Create `file` with its full content in one step (write a temp file, hard-link it): never empty, never half. */
async function createComplete(file: string, content: string): Promise<number | null> {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, content);
  try {
    await fs.link(tmp, file);
    return (await fs.stat(tmp)).ino;
  } catch (err) {
    if (errno(err) === 'EEXIST') return null;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Why the lock at `file` (as seen in `st`) may be taken over, or null while it is live. */
function staleReason(holder: Holder | null, mtimeMs: number, staleMs: number): string | null {
  const age = Date.now() - mtimeMs;
  if (!holder) return age > UNREADABLE_GRACE_MS ? 'unreadable' : null;
  if (holder.hostname === os.hostname() && !processAlive(holder.pid)) return `process ${holder.pid} is gone`;
  if (age > staleMs) return `not refreshed for ${Math.round(age / 1000)} s`;
  return null;
}

/**
 * Remove the stale lock observed as inode `ino` with modification time `mtimeMs`, unless it changed meanwhile.
 * One taker at a time (a guard file created exclusively), so two waiters cannot both remove a lock and each
 * think they own the next one: the second one sees a different (fresh) lock and leaves it alone.
 */
async function takeOver(file: string, ino: number, mtimeMs: number): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await (await fs.open(guard, 'wx')).close();
  } catch (err) {
    if (errno(err) !== 'EEXIST') throw err;
    const st = await fs.stat(guard).catch(() => null);
    if (st && Date.now() - st.mtimeMs > TAKEOVER_STALE_MS) await fs.rm(guard, { force: true });
    return; // someone else is taking over; look again
  }
  try {
    const now = await fs.stat(file).catch(() => null);
    if (now && now.ino === ino && now.mtimeMs === mtimeMs) await fs.rm(file, { force: true });
  } finally {
    await fs.rm(guard, { force: true });
  }
}

/**
 * Hold an exclusive lock (a file created atomically with its content) while `fn` runs, so two processes never
 * promote at once. The holder refreshes the file's modification time while it runs. Taken over: a lock of a dead
 * process on this machine, one not refreshed for `staleMs`, and an unreadable one (a crash of a writer that did not
 * create it atomically).
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, options: number | LockOptions = {}): Promise<T> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const staleMs = opts.staleMs ?? STALE_MS;
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let mine: number;
  for (;;) {
    const ino = await createComplete(file, JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now() }));
    if (ino !== null) {
      mine = ino;
      break;
    }
    const st = await fs.stat(file).catch(() => null);
    if (!st) continue; // released meanwhile
    const holder = parseHolder(await fs.readFile(file, 'utf8').catch(() => ''));
    if (staleReason(holder, st.mtimeMs, staleMs)) {
      await takeOver(file, st.ino, st.mtimeMs);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the registry at ${dir} is locked${holder ? ` by process ${holder.pid}` : ''}; try again`);
    await pause();
  }
  const refresh = setInterval(() => {
    const now = new Date();
    void fs.utimes(file, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(staleMs / 3)));
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    // Remove only our own lock (not one that replaced it after ours was judged stale).
    const st = await fs.stat(file).catch(() => null);
    if (st && st.ino === mine) await fs.rm(file, { force: true });
  }
}
