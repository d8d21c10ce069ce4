import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessPool } from '../../src/tuning/process-pool.js';

describe('process pool', () => {
  const pool = new ProcessPool(path.resolve('test/tuning/fixtures/echo-worker.ts'), 2);
  afterAll(() => pool.close());

  it('runs tasks in parallel processes and relays events', async () => {
    const events: unknown[] = [];
    const out = await Promise.all([1, 2, 3, 4].map((x) => pool.run<{ y: number; pid: number }>({ x }, (e) => events.push(e))));
    expect(out.map((o) => o.y)).toEqual([2, 4, 6, 8]);
    expect(new Set(out.map((o) => o.pid)).size).toBe(2);
    expect(out.every((o) => o.pid !== process.pid)).toBe(true);
    expect(events).toHaveLength(4);
  });

  it('reports a task error and survives a crashed worker', async () => {
    await expect(pool.run({ x: 1, fail: true })).rejects.toThrow('bad task 1');
    await expect(pool.run({ x: 1, crash: true })).rejects.toThrow(/exited \(code 3\)/);
    expect(await pool.run<{ y: number }>({ x: 5 })).toMatchObject({ y: 10 });
  });
});
