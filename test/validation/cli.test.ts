import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { registerDataCommands } from '../../src/cli/commands/data.js';
import { registerValidateCommands } from '../../src/cli/commands/validate.js';
import { GROUPS, makeImage, tempHome } from './fixtures.js';

let home: string;
let folder: string;

beforeAll(async () => {
  home = tempHome();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'areyouacat-validate-cli-'));
  for (const group of GROUPS) {
    fs.mkdirSync(path.join(folder, group));
    for (let i = 0; i < 8; i++) {
      // Dogs are thin strips: an integrity failure the gate must stop.
      const size = group === 'dog' ? { width: 200, height: 40 } : {};
      fs.writeFileSync(path.join(folder, group, `${i}.png`), await makeImage({ group, seed: `cli-${group}-${i}`, ...size }));
    }
  }
});
afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(folder, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function cli(...args: string[]) {
  let stdout = '', stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  await buildProgram([registerDataCommands, registerValidateCommands]).parseAsync(['node', 'areyouacat', ...args]);
  const code = process.exitCode ?? 0;
  vi.restoreAllMocks();
  return { stdout, stderr, code };
}

describe('areyouacat data validate', () => {
  it('prints the report as JSON, saves validation.json, and fails the gate on a failing check', async () => {
    const r = await cli('data', 'validate', '--data', folder, '--name', 'cli-set', '--json');
    const report = JSON.parse(r.stdout);
    expect(report.dataset).toBe('cli-set');
    expect((report.checks as { id: string }[]).map((c) => c.id)).toContain('property-label-correlation');
    expect((report.checks as { id: string; status: string }[]).find((c) => c.id === 'integrity')?.status).toBe('fail');
    expect(JSON.parse(fs.readFileSync(path.join(home, 'datasets', 'cli-set', 'validation.json'), 'utf8')).createdAt).toBe(report.createdAt);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--allow-check integrity');
  });

  it('prints a table for an ingested set and passes the gate when the failing check is allowed', async () => {
    const r = await cli('data', 'validate', '--name', 'cli-set', '--allow-check', 'integrity');
    expect(r.stdout).toMatch(/integrity\s+FAIL/);
    expect(r.stdout).toMatch(/report: .*validation\.json/);
    expect(r.stderr).toContain('allowed failing checks: integrity');
    expect(r.code).toBe(0);
  });

  it('says what to give when neither --data nor --name is given', async () => {
    const r = await cli('data', 'validate');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/give --data <folder>/);
  });
});
