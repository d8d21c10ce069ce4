import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { appendJsonLine, appendLines, parseJsonLines, readJsonLines } from '../../src/storage/jsonl.js';

describe('JSON-lines files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-jsonl-'));
  });

  it('reads a missing file as no records', async () => {
    expect(await readJsonLines(path.join(dir, 'missing.jsonl'))).toEqual({ records: [], badLines: 0 });
  });

  it('reads an empty file, and a file of blank lines, as no records', async () => {
    await fs.writeFile(path.join(dir, 'empty.jsonl'), '');
    await fs.writeFile(path.join(dir, 'blank.jsonl'), '\n\n  \r\n');
    expect(await readJsonLines(path.join(dir, 'empty.jsonl'))).toEqual({ records: [], badLines: 0 });
    expect(await readJsonLines(path.join(dir, 'blank.jsonl'))).toEqual({ records: [], badLines: 0 });
  });

  it('skips a torn last line and counts it', async () => {
    const file = path.join(dir, 'torn.jsonl');
    await appendJsonLine(file, { a: 1 });
    await appendJsonLine(file, { a: 2 });
    await fs.appendFile(file, '{"a": 3, "b');
    expect(await readJsonLines(file)).toEqual({ records: [{ a: 1 }, { a: 2 }], badLines: 1 });
  });

  it('skips a damaged line in the middle too and keeps the lines after it', () => {
    expect(parseJsonLines('{"a":1}\n{"a":\n{"a":3}\n')).toEqual({ records: [{ a: 1 }, { a: 3 }], badLines: 1 });
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    expect(parseJsonLines('{"a":1}\r\n{"a":2}\r\n{"a":3}')).toEqual({ records: [{ a: 1 }, { a: 2 }, { a: 3 }], badLines: 0 });
  });

  it('throws read errors other than a missing file', async () => {
    await expect(readJsonLines(dir)).rejects.toThrow(/EISDIR/);
  });

  it('appends one line per value (creating the folder), synced or not, and several lines in one write', async () => {
    const file = path.join(dir, 'nested', 'log.jsonl');
    await appendJsonLine(file, { n: 1, s: 'line\nbreak' }, { sync: true });
    await appendLines(file, [JSON.stringify({ n: 2 }), JSON.stringify({ n: 3 })]);
    await appendLines(file, []);
    expect(await fs.readFile(file, 'utf8')).toBe('{"n":1,"s":"line\\nbreak"}\n{"n":2}\n{"n":3}\n');
    expect((await readJsonLines(file)).records).toEqual([{ n: 1, s: 'line\nbreak' }, { n: 2 }, { n: 3 }]);
  });
});
