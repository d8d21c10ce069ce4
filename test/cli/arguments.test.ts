import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The real CLI, as a user runs it (commander parses process.argv).
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/areyouacat.js', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('command-line arguments', () => {
  it('lists the commands with --help', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['data', 'pipeline', 'registry', 'serve', 'start', 'monitor']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  }, 150_000);

  it('refuses arguments a command does not take instead of ignoring them', async () => {
    // `serve 8080` (instead of `serve --port 8080`) would otherwise start a server on the default port.
    const r = await cli('serve', '8080');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/too many arguments for 'serve'/);
    const show = await cli('runs', 'show', 'a', 'b');
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/too many arguments for 'show'. Expected 1 argument but got 2/);
  }, 150_000);
});
