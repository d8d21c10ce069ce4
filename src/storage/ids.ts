import { randomBytes } from 'node:crypto';

/**
 * An id that sorts by creation time: `YYYYMMDDTHHMMSSmmmZ-<hex>` (UTC to the millisecond, then `randomHexBytes`
 * random bytes as hex, so ids made in the same millisecond differ). Ids of the same length sort like their times.
 */
export function timeSortableId(now: Date = new Date(), randomHexBytes = 3): string {
  if (!Number.isInteger(randomHexBytes) || randomHexBytes < 1) throw new Error(`randomHexBytes must be a positive integer, got ${randomHexBytes}`);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', ''); // 2026-11-26T23:05:01.123Z -> 20261126T230501123Z
  return `${stamp}-${randomBytes(randomHexBytes).toString('hex')}`;
}

