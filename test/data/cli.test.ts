import fs from 'node:fs';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataCommand, registerDataCommands } from '../../src/cli/commands/data.js';
import { patternJpeg, tempDir, writeFile } from './fixtures.js';

describe('areyouacat data ingest / summary', () => {
  let root: string;
  let home: string;
  const oldHome = process.env.AREYOUACAT_HOME;
  beforeAll(async () => {
    root = tempDir('cli-src');
    home = tempDir('cli-home');
    process.env.AREYOUACAT_HOME = home;
    for (const g of ['kittens', 'dog']) for (let i = 0; i < 6; i++) writeFile(root, `${g}/${i}.jpg`, await patternJpeg(`${g}${i}`));
  });
  afterAll(() => {
    process.env.AREYOUACAT_HOME = oldHome;
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    registerDataCommands(program);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'areyouacat', ...args]);
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
    }
    return out;
  }

  it('ingests with a group map and mix, prints JSON, then a summary', async () => {
    const out = await run(['data', 'ingest', '--data', root, '--name', 'cli', '--groups', 'kittens=cat', '--mix', 'cat=1,dog=1', '--size', '16', '--json']);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ name: 'cli', size: 16, files: 12, selected: 12 });
    expect(summary.perGroup.cat.selected).toBe(6);
    const text = await run(['data', 'summary', '--name', 'cli']);
    expect(text).toContain('data set "cli"');
    expect(text).toMatch(/cat\s+6\s+6/);
  });

  it('reports a clear error and exit code for a bad source', async () => {
    process.exitCode = 0;
    await run(['data', 'ingest', '--data', 'nope://x', '--name', 'bad']);
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });

  it('lets other modules add subcommands to the same group', () => {
    const program = new Command();
    registerDataCommands(program);
    dataCommand(program).command('validate');
    expect(program.commands.filter((c) => c.name() === 'data').length).toBe(1);
    expect(dataCommand(program).commands.map((c) => c.name())).toEqual(['ingest', 'summary', 'validate']);
  });
});
