import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteLogsBefore, JsonlAppender, listLogDays, readLog } from '../../src/monitoring/event-log.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-eventlog-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('monitoring event logs', () => {
  it('appends records to daily files, skips a torn last line and deletes old days', async () => {
    const log = new JsonlAppender(dir, 10_000);
    log.append('predictions', { time: '2026-01-01T10:00:00.000Z', n: 1 });
    log.append('predictions', { time: '2026-01-02T10:00:00.000Z', n: 2 });
    log.append('predictions', { time: '2026-01-02T11:00:00.000Z', n: 3 });
    log.append('feedback', { time: '2026-01-02T11:00:00.000Z', n: 4 });
    await log.close();
    await fs.appendFile(path.join(dir, 'predictions-2026-01-02.jsonl'), '{"time":"2026-01-02T12:0'); // crash mid-write
    expect(listLogDays(dir, 'predictions')).toEqual(['2026-01-01', '2026-01-02']);
    const all = await readLog<{ n: number }>(dir, 'predictions');
    expect(all.records.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(all.badLines).toBe(1);
    expect((await readLog<{ n: number }>(dir, 'predictions', '2026-01-02')).records.map((r) => r.n)).toEqual([2, 3]);
    expect(await deleteLogsBefore(dir, '2026-01-02')).toEqual(['predictions-2026-01-01.jsonl']);
    expect(listLogDays(dir, 'feedback')).toEqual(['2026-01-02']);
  });

  it('keeps working after a failed write', async () => {
    const blocked = path.join(dir, 'not-a-dir');
    await fs.writeFile(blocked, 'x');
    const log = new JsonlAppender(blocked, 10_000);
    log.append('feedback', { time: '2026-01-03T00:00:00.000Z' });
    await expect(log.flush()).rejects.toThrow();
    await fs.rm(blocked);
    log.append('feedback', { time: '2026-01-03T00:00:00.000Z', ok: true });
    await log.close();
    expect((await readLog<{ ok?: boolean }>(blocked, 'feedback')).records).toEqual([{ time: '2026-01-03T00:00:00.000Z', ok: true }]);
  });
});
