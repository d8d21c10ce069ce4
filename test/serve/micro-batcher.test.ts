import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../src/serve/micro-batcher.js';

describe('micro batcher', () => {
  it('batches items that arrive together and keeps results in order', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs.map((x) => x * 2);
    }, 4);
    const out = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.submit(x)));
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    expect(sizes).toEqual([4, 2]);
  });

  it('rejects every item of a failing batch and keeps working', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>(async (xs) => {
      if (fail) throw new Error('boom');
      return xs;
    });
    await expect(Promise.all([b.submit(1), b.submit(2)])).rejects.toThrow('boom');
    fail = false;
    await expect(b.submit(3)).resolves.toBe(3);
  });
});
