import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicateClusters } from '../../src/data/duplicates.js';
import { buildManifest } from '../../src/data/manifest.js';
import { shuffled } from '../../src/data/mix.js';
import { hammingDistance } from '../../src/data/phash.js';
import { FolderSource } from '../../src/data/sources/folder.js';
import { splitEntries } from '../../src/data/split.js';
import type { ManifestEntry } from '../../src/data/types.js';
import { patternImage, patternJpeg, tempDir, writeFile } from './fixtures.js';

const GROUPS = ['cat', 'dog', 'selfie', 'misc'];
const PER_GROUP = 30;
const COPIES = 8; // originals per group that get planted copies

/** A photo-sized random hash entry for fast pure-function tests. */
function fakeEntries(n: number, seed: string): ManifestEntry[] {
  const rnd = shuffled(Array.from({ length: n * 16 }, (_, i) => '0123456789abcdef'[(i * 7 + n) % 16]), seed);
  return Array.from({ length: n }, (_, i) => ({
    path: `${GROUPS[i % 4]}/${i}.jpg`, group: GROUPS[i % 4], label: i % 4 === 0 ? 1 : 0, source: 's',
    sha256: i.toString(16).padStart(64, '0'), bytes: 1, format: 'jpeg', width: 100, height: 100,
    phash: rnd.slice(i * 16, i * 16 + 16).join(''), status: 'ok', reason: '',
  }));
}

describe('split keeps planted copies on one side', () => {
  let root: string;
  let entries: ManifestEntry[];
  const copiesOf = new Map<string, string[]>();

  beforeAll(async () => {
    root = tempDir('split');
    for (const g of GROUPS) {
      for (let i = 0; i < PER_GROUP; i++) {
        const name = `${g}/orig-${i}.jpg`;
        const original = await patternJpeg(`${g}-${i}`, 160, 120);
        writeFile(root, name, original);
        if (i >= COPIES) continue;
        const img = () => patternImage(`${g}-${i}`, 160, 120);
        const copies: Array<[string, Buffer]> = [
          [`${g}/copy-${i}-exact.jpg`, original],
          [`${g}/copy-${i}-q40.jpg`, await (await img()).jpeg({ quality: 40 }).toBuffer()],
          [`${g}/copy-${i}-small.png`, await (await img()).resize(90, 68).png().toBuffer()],
          [`${g}/copy-${i}-bright.jpg`, await (await img()).linear(1.08, 6).jpeg({ quality: 85 }).toBuffer()],
        ];
        for (const [p, b] of copies) writeFile(root, p, b);
        copiesOf.set(name, copies.map(([p]) => p));
      }
    }
    entries = (await buildManifest(new FolderSource(root))).entries;
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const byPath = (p: string) => entries.find((e) => e.path === p)!;

  it('planted copies are within the default near-duplicate distance; distinct photos are not', () => {
    for (const [orig, copies] of copiesOf) {
      for (const c of copies) expect(hammingDistance(byPath(orig).phash, byPath(c).phash), c).toBeLessThanOrEqual(6);
    }
    const originals = entries.filter((e) => e.path.includes('orig-'));
    const { clusters } = duplicateClusters(originals, 6);
    expect(clusters.length).toBe(originals.length);
  });

  it('no planted copy lands in a different split from its original, for several seeds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const split = splitEntries(entries, { seed });
      const splitOf = new Map(split.entries.map((e) => [e.path, e.split]));
      for (const [orig, copies] of copiesOf) for (const c of copies) expect(splitOf.get(c), `${c} seed ${seed}`).toBe(splitOf.get(orig));
      expect(split.clusters.multi).toBe(copiesOf.size);
    }
  });

  it('without near-duplicate matching some copies do cross splits (the check above can fail)', () => {
    let crossing = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const splitOf = new Map(splitEntries(entries, { seed, nearDupDistance: -1 }).entries.map((e) => [e.path, e.split]));
      for (const [orig, copies] of copiesOf) for (const c of copies) if (splitOf.get(c) !== splitOf.get(orig)) crossing++;
    }
    expect(crossing).toBeGreaterThan(0);
  });
});

describe('split determinism and stratification', () => {
  const entries = fakeEntries(2000, 'x');

  it('depends on the seed and contents only, not on input order', () => {
    const a = splitEntries(entries, { seed: 7 });
    const b = splitEntries(shuffled(entries, 'other order'), { seed: 7 });
    const map = (r: typeof a) => Object.fromEntries(r.entries.map((e) => [e.path, e.split]));
    expect(map(b)).toEqual(map(a));
    const c = splitEntries(entries, { seed: 8 });
    expect(map(c)).not.toEqual(map(a));
  });

  it('gives each group its 70/15/15 share', () => {
    const r = splitEntries(entries, { seed: 1, nearDupDistance: -1 });
    for (const g of GROUPS) {
      expect(r.counts.train[g]).toBe(350);
      expect(r.counts.val[g]).toBe(75);
      expect(r.counts.test[g]).toBe(75);
    }
    const custom = splitEntries(entries, { seed: 1, fractions: { train: 0.8, val: 0.1, test: 0.1 }, nearDupDistance: -1 });
    expect(custom.counts.test.cat).toBe(50);
  });

  it('rejects rejected entries and bad fractions with a clear error', () => {
    expect(() => splitEntries([{ ...entries[0], status: 'rejected', reason: 'x' }])).toThrow(/rejected/);
    expect(() => splitEntries(entries, { fractions: { train: -1, val: 0, test: 0 } })).toThrow(/fractions/);
  });

  it('clusters 6,000 hashes, each item in exactly one cluster', () => {
    const many = fakeEntries(6000, 'y');
    const r = duplicateClusters(many, 6);
    expect(r.clusters.reduce((s, c) => s + c.length, 0)).toBe(6000);
    expect(new Set(r.clusters.flat()).size).toBe(6000);
  });

  it('property: any two entries within the distance end up in the same split', () => {
    const hex = (hi: number, lo: number) => (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { minLength: 4, maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(), fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 8 })), { maxLength: 30 }),
        fc.integer({ min: 0, max: 8 }),
        fc.nat(),
        (bases, copies, distance, seed) => {
          const hashes = bases.map(([hi, lo]) => [hi, lo]);
          for (const [from, bits] of copies) {
            const [hi, lo] = hashes[from % hashes.length];
            let h = hi;
            let l = lo;
            for (const b of bits) if (b < 32) h ^= 1 << b; else l ^= 1 << (b - 32);
            hashes.push([h, l]);
          }
          const entries = hashes.map(([hi, lo], i) => ({
            ...fakeEntries(1, 'p')[0], path: `${GROUPS[i % 4]}/${i}.jpg`, group: GROUPS[i % 4], sha256: i.toString(16).padStart(64, '0'), phash: hex(hi, lo),
          }));
          const out = splitEntries(entries, { seed, nearDupDistance: distance }).entries;
          for (let i = 0; i < out.length; i++) {
            for (let j = i + 1; j < out.length; j++) {
              if (hammingDistance(out[i].phash, out[j].phash) <= distance && out[i].split !== out[j].split) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 150 },
    );
  });
});
