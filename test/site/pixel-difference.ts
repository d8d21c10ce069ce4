import { expect } from 'vitest';

/** Mean and largest absolute difference of two byte images of the same length (checked). */
export function pixelDifference(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  expect(b.length).toBe(a.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}
