import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, defaultLogFormat, logTo, parseLogFormat, parseLogLevel } from '../../src/logging/index.js';

/** A destination that keeps what is written (pino writes each line whole). */
function memory(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join('') };
}

describe('logging: pino behind the Log callback', () => {
  it('writes one JSON object per line with level, time, msg and the fields', () => {
    const out = memory();
    const log = logTo(createLogger({ format: 'json', destination: out.stream }));
    log('request done', { reqId: 'abc-1', status: 200 });
    log('plain line');
    log('warning: disk nearly full');
    log('it broke', { level: 'error', reqId: 'abc-2' });
    const lines = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(typeof l.msg).toBe('string');
      expect(Number.isNaN(Date.parse(String(l.time)))).toBe(false);
      expect(l).not.toHaveProperty('pid');
    }
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'request done', reqId: 'abc-1', status: 200 });
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'plain line' });
    expect(lines[2].level).toBe('warn');
    expect(lines[3]).toMatchObject({ level: 'error', msg: 'it broke', reqId: 'abc-2' });
  });

  it('drops lines below the level', () => {
    const out = memory();
    const log = logTo(createLogger({ format: 'json', level: 'warn', destination: out.stream }));
    log('chatty', { level: 'debug' });
    log('normal');
    log('bad', { level: 'error' });
    expect(out.text().trimEnd().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['bad']);
  });

  it('pretty prints human-readable lines (not JSON) with the fields', () => {
    const out = memory();
    logTo(createLogger({ format: 'pretty', destination: out.stream }))('serving model v3', { reqId: 'r-9' });
    const text = out.text();
    expect(text).toMatch(/INFO.*serving model v3/);
    expect(text).toMatch(/reqId: "r-9"/);
    expect(() => { JSON.parse(text.split('\n')[0]); }).toThrow();
  });

  it('is pretty on a terminal and JSON otherwise by default; rejects unknown formats and levels', () => {
    expect(defaultLogFormat({ isTTY: true })).toBe('pretty');
    expect(defaultLogFormat({ isTTY: false })).toBe('json');
    const out = memory(false);
    logTo(createLogger({ destination: out.stream }))('x');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'x', level: 'info' });
    expect(() => parseLogFormat('xml')).toThrow(/--log-format/);
    expect(() => parseLogLevel('loud')).toThrow(/--log-level/);
  });
});
