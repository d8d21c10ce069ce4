import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/registry/lock.js';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-lock-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const lockFile = () => path.join(tmp, '.lock');

/** A pid that is not running here (a process that was started and has exited). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('registry lock', () => {
  it('an empty lock file (a crash between creating and writing it) is stale, not an error', async () => {
    await fs.writeFile(lockFile(), '');
    expect(await withLock(tmp, async () => 'ran', 5_000)).toBe('ran');
    await expect(fs.stat(lockFile())).rejects.toThrow(/ENOENT/);
  });

  it('a half-written lock file is stale too', async () => {
    await fs.writeFile(lockFile(), '{"pid":12');
    expect(await withLock(tmp, async () => 'ran', 5_000)).toBe('ran');
  });

  it('a lock of a dead process on this machine is taken over', async () => {
    await fs.writeFile(lockFile(), JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), time: Date.now() }));
    expect(await withLock(tmp, async () => 'ran', 5_000)).toBe('ran');
  });

  it('a held lock is refreshed, so a long holder is not taken for stale', async () => {
    const staleMs = 600;
    let inside = false;
    let overlapped = false;
    const long = withLock(
      tmp,
      async () => {
        inside = true;
        // Hold for several stale periods; wait on the state of the other contender, not a fixed sleep.
        const until = Date.now() + staleMs * 4;
        while (Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        inside = false;
      },
      { timeoutMs: 10_000, staleMs },
    );
    while (!inside) await new Promise((r) => setTimeout(r, 5));
    // The holder keeps the lock fresh: its modification time moves on while it is held.
    const first = (await fs.stat(lockFile())).mtimeMs;
    let refreshed = false;
    for (const until = Date.now() + staleMs * 3; !refreshed && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 25));
      refreshed = (await fs.stat(lockFile())).mtimeMs > first;
    }
    expect(refreshed).toBe(true);
    // A holder on another host (pid checks do not apply): only the age of the lock can make it stale.
    const raw = JSON.parse(await fs.readFile(lockFile(), 'utf8')) as { hostname: string };
    await fs.writeFile(lockFile(), JSON.stringify({ ...raw, hostname: 'elsewhere' }));
    await withLock(
      tmp,
      async () => {
        overlapped = inside;
      },
      { timeoutMs: 10_000, staleMs },
    );
    await long;
    expect(overlapped).toBe(false);
  }, 30_000);

  it('a lock that is not refreshed (its holder is gone) goes stale by age', async () => {
    await fs.writeFile(lockFile(), JSON.stringify({ pid: 1, hostname: 'elsewhere', time: Date.now() }));
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockFile(), old, old);
    expect(await withLock(tmp, async () => 'ran', { timeoutMs: 5_000, staleMs: 10_000 })).toBe('ran');
  });

  it('times out naming the holder while a live lock is held', async () => {
    await fs.writeFile(lockFile(), JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now() }));
    await expect(withLock(tmp, async () => 'ran', 300)).rejects.toThrow(`locked by process ${process.pid}`);
  });

  it('two processes waiting on a stale lock never both take it over', async () => {
    const contenders = 3;
    const rounds = 12;
    const registry = path.join(tmp, 'registry');
    await fs.mkdir(registry, { recursive: true });
    const children = Array.from({ length: contenders }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', 'test/registry/fixtures/lock-contender.ts', tmp, String(i), String(rounds)], {
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    );
    const exited = children.map((c) => new Promise<number | null>((r) => c.on('exit', r)));
    const dead = await deadPid();
    for (let r = 0; r < rounds; r++) {
      // Every round starts from a stale lock: alternately a dead holder and an empty file.
      const stale = r % 2 === 0 ? JSON.stringify({ pid: dead, hostname: os.hostname(), time: Date.now() }) : '';
      await fs.writeFile(path.join(registry, '.lock'), stale);
      await fs.writeFile(path.join(tmp, `round-${r}`), '');
      for (let i = 0; i < contenders; i++) {
        for (;;) {
          if (await fs.stat(path.join(tmp, `done-${r}-${i}`)).then(() => true, () => false)) break;
          if (children[i].exitCode !== null) throw new Error(`contender ${i} exited early`);
          await new Promise((res) => setTimeout(res, 10));
        }
      }
    }
    expect(await Promise.all(exited)).toEqual(children.map(() => 0));
    const lines = (await fs.readFile(path.join(tmp, 'log'), 'utf8')).trim().split('\n');
    expect(lines.length).toBe(contenders * rounds * 2);
    const overlaps: string[] = [];
    let holder: string | null = null;
    for (const line of lines) {
      const [what, id] = line.split(' ');
      if (what === 'enter') {
        if (holder !== null) overlaps.push(`${id} entered while ${holder} held the lock`);
        holder = id!;
      } else holder = null;
    }
    expect(overlaps).toEqual([]);
  }, 120_000);
});
