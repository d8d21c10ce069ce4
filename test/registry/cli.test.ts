import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { registerRegistryCommands } from '../../src/cli/commands/registry.js';
import { registerRunsCommands } from '../../src/cli/commands/runs.js';
import { evaluate } from '../../src/evaluation/report.js';
import { withRun } from '../../src/tracking/runs.js';
import { fakeModelDir } from './fixtures/fake-model.js';

let home: string;
const saved = process.env.AREYOUACAT_HOME;

async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  process.exitCode = 0;
  try {
    await buildProgram([registerRunsCommands, registerRegistryCommands]).exitOverride().parseAsync(['node', 'areyouacat', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-cli-'));
  process.env.AREYOUACAT_HOME = home;
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
  if (saved === undefined) delete process.env.AREYOUACAT_HOME;
  else process.env.AREYOUACAT_HOME = saved;
});

async function trainedRun(name: string, lr: number, probs: number[]): Promise<string> {
  const val = { labels: [1, 1, 0, 0, 1, 0], probs };
  return withRun({ name, params: { lr, imageSize: 32 }, dataset: { name: 'd', manifestHash: 'h'.repeat(64) } }, async (run) => {
    await run.copyArtifact('model', await fakeModelDir(path.join(home, `m-${name}`), 1));
    const report = await evaluate({ val, test: val });
    await run.writeArtifact('evaluation.json', report);
    await run.logMetrics({ test_f1: report.test.atThreshold.f1 });
    return run.id;
  });
}

describe('runs and registry commands', () => {
  it('list, show and compare runs, skipping a damaged one with a message', async () => {
    const a = await trainedRun('a', 0.01, [0.9, 0.8, 0.2, 0.1, 0.7, 0.3]);
    const b = await trainedRun('b', 0.001, [0.9, 0.8, 0.2, 0.1, 0.7, 0.3]);
    await fs.mkdir(path.join(home, 'runs', 'damaged'));
    await fs.writeFile(path.join(home, 'runs', 'damaged', 'run.json'), '{');
    const list = await cli('runs', 'list');
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS/);
    expect(list.out).toContain(a);
    expect(list.out).toContain(b);
    expect(list.err).toMatch(/skipped damaged run damaged: run.json is not valid JSON/);
    const json = JSON.parse((await cli('runs', 'list', '--json')).out);
    expect(json.runs).toHaveLength(2);
    expect((await cli('runs', 'show', a)).out).toMatch(/status\s+finished/);
    const cmp = await cli('runs', 'compare', a, b);
    expect(cmp.out).toMatch(/lr \*\s+0.01\s+0.001/);
    expect(JSON.parse((await cli('runs', 'compare', a, b, '--json')).out).sameData).toBe(true);
    const missing = await cli('runs', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no run with id "nope"/);
  });

  it('register, promote (exit 2 when the gate refuses), force and roll back', async () => {
    const good = await trainedRun('good', 0.01, [0.9, 0.8, 0.2, 0.1, 0.7, 0.3]);
    const worse = await trainedRun('worse', 0.01, [0.9, 0.3, 0.2, 0.8, 0.7, 0.1]);
    expect((await cli('registry', 'register', good)).out).toMatch(/registered v1/);
    expect((await cli('registry', 'register', worse)).out).toMatch(/registered v2/);
    expect((await cli('registry', 'promote', 'v1')).out).toMatch(/promoted v1/);
    const refused = await cli('registry', 'promote', 'v2');
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/v2 NOT promoted; v1 stays/);
    expect(refused.out).toMatch(/\[FAIL\]/);
    expect((await cli('registry', 'promote', 'v2', '--force')).err).toMatch(/needs a reason/);
    expect((await cli('registry', 'promote', 'v2', '--force', '--reason', 'demo')).out).toMatch(/force-promoted v2/);
    expect((await cli('registry', 'list')).out).toMatch(/\* v2/);
    expect((await cli('registry', 'rollback', 'v1', '--reason', 'dogs')).out).toMatch(/rolled back from v2 to v1/);
    const list = await cli('registry', 'list', '--json');
    expect(JSON.parse(list.out).promoted).toBe(1);
    expect((await cli('registry', 'show', 'v1')).out).toMatch(/model v1\s+\(promoted\)/);
    const d = JSON.parse((await cli('registry', 'decisions', '--json')).out);
    expect((d as { action: string }[]).map((x) => x.action)).toEqual(['promote', 'reject', 'force-promote', 'rollback']);
    // A configured policy applies to later decisions and is recorded with them.
    expect((await cli('registry', 'policy', '--min-recall', '0.99', '--metric', 'prAuc')).out).toMatch(/policy updated[\s\S]*minRecall\s+0.99/);
    expect(JSON.parse((await cli('registry', 'policy', '--json')).out)).toMatchObject({ minRecall: 0.99, primaryMetric: 'prAuc', minPrecision: 0.85 });
    expect((await cli('registry', 'promote', 'v2')).code).toBe(2);
    const last = (JSON.parse((await cli('registry', 'decisions', '--json')).out) as { policy: unknown }[]).pop()!;
    expect(last.policy).toMatchObject({ minRecall: 0.99, primaryMetric: 'prAuc' });
    await expect(cli('registry', 'policy', '--metric', 'loss')).resolves.toMatchObject({ code: 1, err: expect.stringMatching(/primaryMetric must be one of/) });
    // Option errors reach the CLI entry point, which prints them as `error: ...`.
    await expect(cli('registry', 'promote', 'v1', '--min-precision', '2')).rejects.toThrow(/--min-precision must be a number in \[0, 1\]/);
  });
});
