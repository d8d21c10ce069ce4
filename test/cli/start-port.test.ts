/**
 * Issue 26, first run: `npm start` checks that its port is free before any work (it used to find out after ingest,
 * validation, training and the site build, about 6 minutes on a first run), and says how to pick another. The real
 * CLI in a child process, on a fresh data folder, with the port taken by another listener.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let blocker: net.Server;
let port: number;
let home: string;

beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  port = (blocker.address() as net.AddressInfo).port;
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-start-port-'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  await fs.rm(home, { recursive: true, force: true });
});

describe('areyouacat start with its port taken', () => {
  it('stops at once, before any step, naming the port and --port', async () => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'src/cli/main.ts', 'start', '--port', String(port)], {
      env: { ...process.env, AREYOUACAT_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const seconds = (Date.now() - t0) / 1000;
    expect(code, out).not.toBe(0);
    expect(out).toMatch(new RegExp(`port ${port}.*already in use`));
    expect(out).toMatch(/--port/);
    // No step ran: nothing was ingested into the fresh data folder.
    expect(await fs.readdir(path.join(home, 'datasets')).catch(() => [])).toEqual([]);
    expect(seconds, out).toBeLessThan(60);
  }, 600_000);
});
