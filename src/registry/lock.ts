import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../tracking/environment.js';

const STALE_MS = 10 * 60_000;

/**
 * Hold an exclusive lock (a file created with O_EXCL) while `fn` runs, so two processes never promote at once.
 * A lock left by a dead process on this machine, or older than 10 minutes, is taken over.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const h = await fs.open(file, 'wx');
      await h.writeFile(JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now() }));
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as { pid: number; hostname: string; time: number }, () => null);
      const stale = holder && ((holder.hostname === os.hostname() && !processAlive(holder.pid)) || Date.now() - holder.time > STALE_MS);
      if (stale) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the registry at ${dir} is locked${holder ? ` by process ${holder.pid}` : ''}; try again`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(file, { force: true });
  }
}
