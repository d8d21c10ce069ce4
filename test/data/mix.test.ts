import { describe, expect, it } from 'vitest';
import { apportion, parseMix, sampleToMix } from '../../src/data/mix.js';
import type { ManifestEntry } from '../../src/data/types.js';

function entries(counts: Record<string, number>, rejected = 0): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const [g, n] of Object.entries(counts)) {
    for (let i = 0; i < n + rejected; i++) {
      out.push({
        path: `${g}/${i}.jpg`, group: g, label: g === 'cat' ? 1 : 0, source: 's', sha256: `${g}${i}`.padEnd(64, '0'), bytes: 1,
        format: 'jpeg', width: 9, height: 9, phash: '0'.repeat(16), status: i < n ? 'ok' : 'rejected', reason: i < n ? '' : 'x',
      });
    }
  }
  return out;
}

describe('sampling to a group mix', () => {
  it('takes the largest sample that keeps the default 25/25/25/25 mix', () => {
    const s = sampleToMix(entries({ cat: 100, dog: 60, selfie: 80, misc: 200 }, 5), { cat: 1, dog: 1, selfie: 1, misc: 1 }, { seed: 1 });
    expect(s.selected.length).toBe(240);
    for (const g of ['cat', 'dog', 'selfie', 'misc']) expect(s.perGroup[g].selected).toBe(60);
    expect(s.selected.every((e) => e.status === 'ok')).toBe(true);
  });

  it('honours uneven mixes and an explicit n', () => {
    const e = entries({ cat: 100, dog: 100, selfie: 100, misc: 100 });
    const s = sampleToMix(e, parseMix('cat=0.5,dog=0.2,selfie=0.2,misc=0.1'), { seed: 1 });
    expect(s.perGroup.cat.selected).toBe(100);
    expect(s.perGroup.misc.selected).toBe(20);
    const n = sampleToMix(e, { cat: 0.25, dog: 0.25, selfie: 0.25, misc: 0.25 }, { seed: 1, n: 42 });
    expect(n.selected.length).toBe(42);
    expect(() => sampleToMix(e, parseMix('cat=0.5,dog=0.5'), { n: 300 })).toThrow(/cannot sample 300/);
  });

  it('is deterministic for a seed, differs across seeds, ignores listing order', () => {
    const e = entries({ cat: 50, dog: 50 });
    const mix = { cat: 0.5, dog: 0.5 };
    const paths = (x: ManifestEntry[]) => x.map((y) => y.path).sort();
    const a = sampleToMix(e, mix, { seed: 3, n: 20 });
    expect(paths(sampleToMix(e.slice().reverse(), mix, { seed: 3, n: 20 }).selected)).toEqual(paths(a.selected));
    expect(paths(sampleToMix(e, mix, { seed: 4, n: 20 }).selected)).not.toEqual(paths(a.selected));
  });

  it('counts groups outside the mix and refuses a mix it cannot meet', () => {
    const s = sampleToMix(entries({ cat: 10, dog: 10, horse: 7 }), { cat: 0.5, dog: 0.5 });
    expect(s.outsideMix).toBe(7);
    expect(() => sampleToMix(entries({ cat: 10 }), { cat: 0.5, dog: 0.5 })).toThrow(/dog/);
    expect(() => parseMix('cat=abc')).toThrow(/bad mix entry/);
  });

  it('apportions with largest remainders', () => {
    expect(apportion(10, { a: 1 / 3, b: 1 / 3, c: 1 / 3 })).toEqual({ a: 4, b: 3, c: 3 });
  });
});
