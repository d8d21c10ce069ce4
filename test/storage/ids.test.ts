import { describe, expect, it } from 'vitest';
import { timeSortableId } from '../../src/storage/ids.js';
import { newRunId } from '../../src/tracking/ids.js';

describe('time-sortable ids', () => {
  it('starts with the UTC time to the millisecond, then random hex of the asked length', () => {
    const at = new Date('2026-11-26T23:05:01.123Z');
    expect(timeSortableId(at)).toMatch(/^20261126T230501123Z-[0-9a-f]{6}$/);
    expect(timeSortableId(at, 8)).toMatch(/^20261126T230501123Z-[0-9a-f]{16}$/);
    expect(newRunId(at)).toMatch(/^20261126T230501123Z-[0-9a-f]{6}$/);
  });

  it('sorts like the times it was made at, and differs within one millisecond', () => {
    const times = ['2026-01-02T00:00:00.000Z', '2026-01-01T23:59:59.999Z', '2025-12-31T10:00:00.001Z', '2026-01-01T23:59:59.998Z'];
    const ids = times.map((t) => timeSortableId(new Date(t)));
    const byId = [...ids].sort();
    const byTime = [...times].sort().map((t) => ids[times.indexOf(t)]);
    expect(byId).toEqual(byTime);
    const now = new Date();
    const same = new Set(Array.from({ length: 50 }, () => timeSortableId(now)));
    expect(same.size).toBe(50);
  });

  it('refuses a random part that is not a positive whole number of bytes', () => {
    expect(() => timeSortableId(new Date(), 0)).toThrow(/positive integer/);
    expect(() => timeSortableId(new Date(), 1.5)).toThrow(/positive integer/);
  });
});
