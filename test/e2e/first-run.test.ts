import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

// The newcomer's path, for real: clone the repository fresh, `npm ci`, `npm start`, wait for the URL, open the
// site and classify a photo. Slow (an install and a training run), so it runs when AREYOUACAT_E2E=1 (CI sets it).
const enabled = process.env.AREYOUACAT_E2E === '1';

/** The user's environment: no test data folder override, so the clone writes to its own data/. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AREYOUACAT_HOME;
  return env;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe.skipIf(!enabled)('first run: fresh clone, npm ci, npm start', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });

  it('serves the site and classifies a photo', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ayac-first-run-'));
    const repo = path.join(dir, 'repo');
    execFileSync('git', ['clone', '-q', process.cwd(), repo], { stdio: 'inherit' });
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: repo, stdio: 'inherit' });
    const port = await freePort();
    const out: string[] = [];
    child = spawn('npm', ['start', '--', '--port', String(port)], { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 25 minutes:\n${out.join('').slice(-3000)}`)), 25 * 60_000);
      const onData = (b: Buffer) => {
        out.push(b.toString());
        const m = /areyouacat is running: (http:\/\/\S+)/.exec(out.join(''));
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.on('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out.join('').slice(-3000)}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(fs.existsSync(path.join(repo, 'data', 'registry', 'promoted.json'))).toBe(true);

    const home = await fetch(`${url}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('areyouacat');
    const predictPage = await fetch(`${url}/predict`);
    expect(predictPage.status).toBe(200);

    const photo = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#c08040' } }).jpeg().toBuffer();
    const res = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { probability: number; decision: string; modelVersion: number };
    expect(body.probability).toBeGreaterThanOrEqual(0);
    expect(body.probability).toBeLessThanOrEqual(1);
    expect(['cat', 'not-cat']).toContain(body.decision);
    expect(body.modelVersion).toBeGreaterThanOrEqual(1);
  }, 40 * 60_000);
});
