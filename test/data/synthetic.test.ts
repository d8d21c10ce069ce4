import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openSource } from '../../src/data/sources/index.js';
import { parseSyntheticSpec, SyntheticSource } from '../../src/data/sources/synthetic.js';
import { renderContactSheet } from '../../src/data/synthetic/contact-sheet.js';
import { renderSynthetic, syntheticSvg } from '../../src/data/synthetic/render.js';
import type { SourceItem } from '../../src/data/types.js';

const GROUPS = ['cat', 'dog', 'selfie', 'misc'];

function countByGroup(items: SourceItem[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[it.group] = (out[it.group] ?? 0) + 1;
  return out;
}

interface Decoded {
  group: string;
  width: number;
  height: number;
  format: string;
  /** Mean R, G, B of the whole image. */
  mean: number[];
  /** Share of pixels in each of 4x4x4 colour bins. */
  hist: number[];
}

async function decodeAll(source: SyntheticSource): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for (const it of await source.list()) {
    const buf = await source.read(it);
    const meta = await sharp(buf).metadata();
    const { data, info } = await sharp(buf).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixels = info.width * info.height;
    const mean = [0, 0, 0];
    const hist = new Array(64).fill(0);
    for (let i = 0; i < data.length; i += 3) {
      for (let c = 0; c < 3; c++) mean[c] += data[i + c] / pixels;
      hist[(data[i] >> 6) * 16 + (data[i + 1] >> 6) * 4 + (data[i + 2] >> 6)] += 1 / pixels;
    }
    out.push({ group: it.group, width: info.width, height: info.height, format: meta.format, mean, hist });
  }
  return out;
}

/** Balanced accuracy of a nearest-centroid cat-vs-rest classifier on colour histograms (train on even rows, test on odd). */
function colourOnlyAccuracy(rows: Decoded[]): number {
  const train = rows.filter((_, i) => i % 2 === 0);
  const test = rows.filter((_, i) => i % 2 === 1);
  const centroid = (cat: boolean) => {
    const sel = train.filter((r) => (r.group === 'cat') === cat);
    return Array.from({ length: 64 }, (_, k) => meanOf(sel.map((r) => r.hist[k])));
  };
  const [cats, rest] = [centroid(true), centroid(false)];
  const dist = (a: number[], b: number[]) => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
  const hit = { cat: [0, 0], rest: [0, 0] };
  for (const r of test) {
    const predCat = dist(r.hist, cats) < dist(r.hist, rest);
    const h = r.group === 'cat' ? hit.cat : hit.rest;
    h[1]++;
    if (predCat === (r.group === 'cat')) h[0]++;
  }
  return (hit.cat[0] / hit.cat[1] + hit.rest[0] / hit.rest[1]) / 2;
}

function meanOf(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Largest difference between per-group means of a statistic. */
function groupSpread(rows: Decoded[], stat: (d: Decoded) => number): number {
  const means = GROUPS.map((g) => meanOf(rows.filter((r) => r.group === g).map(stat)));
  return Math.max(...means) - Math.min(...means);
}

describe('SyntheticSource', () => {
  it('lists items named by group, seed and index, with the source "synthetic"', async () => {
    const items = await new SyntheticSource({ seed: 3, n: 20 }).list();
    expect(items).toHaveLength(20);
    for (const it of items) {
      expect(it.source).toBe('synthetic');
      expect(it.path).toMatch(new RegExp(`^${it.group}/synth-3-\\d+\\.(png|jpg)$`));
    }
    expect(new Set(items.map((i) => i.path)).size).toBe(20);
    expect(new SyntheticSource({ seed: 3, n: 20 }).id).toBe('synthetic:seed=3,n=20');
  });

  it('is deterministic: the same seed gives identical bytes, another seed different images', async () => {
    const a = new SyntheticSource({ seed: 7, n: 24 });
    const b = new SyntheticSource({ seed: 7, n: 24 });
    const c = new SyntheticSource({ seed: 8, n: 24 });
    const la = await a.list();
    expect(await b.list()).toEqual(la);
    const lc = await c.list();
    let differing = 0;
    for (let i = 0; i < 12; i++) {
      const [x, y] = [await a.read(la[i]), await b.read(la[i])];
      expect(x.equals(y)).toBe(true);
      const z = await c.read(lc[i]);
      if (!x.equals(z)) differing++;
    }
    expect(differing).toBe(12);
    // Reading out of order, or one item alone from a fresh source, gives the same bytes.
    const last = la[la.length - 1];
    expect((await new SyntheticSource({ seed: 7, n: 24 }).read(last)).equals(await a.read(last))).toBe(true);
  });

  it('follows the mix exactly', async () => {
    expect(countByGroup(await new SyntheticSource().list())).toEqual({ cat: 200, dog: 200, selfie: 200, misc: 200 });
    const custom = new SyntheticSource({ n: 100, mix: { cat: 5, dog: 3, selfie: 1, misc: 1 } });
    expect(countByGroup(await custom.list())).toEqual({ cat: 50, dog: 30, selfie: 10, misc: 10 });
    const odd = countByGroup(await new SyntheticSource({ n: 7 }).list());
    expect(Object.values(odd).reduce((a, b) => a + b, 0)).toBe(7);
    expect(Math.max(...Object.values(odd)) - Math.min(...Object.values(odd))).toBeLessThanOrEqual(1);
    expect(countByGroup(await new SyntheticSource({ n: 10, mix: { cat: 1, misc: 0 } }).list())).toEqual({ cat: 10 });
  });

  it('gives an image the same size and format whatever its group', async () => {
    // Same seed and index, different group (another mix): size and format must not change.
    const mixed = new SyntheticSource({ seed: 5, n: 40 });
    const catsOnly = new SyntheticSource({ seed: 5, n: 40, mix: { cat: 1 } });
    const [lm, lc] = [await mixed.list(), await catsOnly.list()];
    let otherGroup = 0;
    for (let i = 0; i < 40; i++) {
      const ext = (p: string) => p.slice(p.lastIndexOf('.'));
      expect(ext(lm[i].path)).toBe(ext(lc[i].path));
      if (lm[i].group === 'cat') continue;
      otherGroup++;
      if (otherGroup > 12) continue;
      const [m, c] = [await sharp(await mixed.read(lm[i])).metadata(), await sharp(await catsOnly.read(lc[i])).metadata()];
      expect([m.width, m.height, m.format]).toEqual([c.width, c.height, c.format]);
    }
    expect(otherGroup).toBeGreaterThan(12);
  });

  it('renders images that decode, with varied sizes and formats unrelated to the group', async () => {
    const rows = await decodeAll(new SyntheticSource({ seed: 11, n: 400 }));
    expect(rows).toHaveLength(400);
    for (const r of rows) {
      expect(r.width).toBeGreaterThanOrEqual(96);
      expect(r.width).toBeLessThanOrEqual(160);
      expect(r.height).toBeGreaterThanOrEqual(96);
      expect(r.height).toBeLessThanOrEqual(160);
      expect(['png', 'jpeg']).toContain(r.format);
    }
    expect(new Set(rows.map((r) => r.width)).size).toBeGreaterThan(30);
    expect(new Set(rows.map((r) => `${r.width}x${r.height}`)).size).toBeGreaterThan(100);
    expect(rows.filter((r) => r.format === 'png').length).toBeGreaterThan(120);
    expect(rows.filter((r) => r.format === 'jpeg').length).toBeGreaterThan(120);
    // 100 images per group: the per-group means of size, aspect and PNG share stay close.
    expect(groupSpread(rows, (r) => r.width)).toBeLessThan(10);
    expect(groupSpread(rows, (r) => r.height)).toBeLessThan(10);
    expect(groupSpread(rows, (r) => r.width / r.height)).toBeLessThan(0.12);
    expect(groupSpread(rows, (r) => (r.format === 'png' ? 1 : 0))).toBeLessThan(0.25);
    // Colour alone is no shortcut: the groups' average image colours are close (shared palettes, random backgrounds).
    for (let ch = 0; ch < 3; ch++) expect(groupSpread(rows, (r) => r.mean[ch])).toBeLessThan(25);
    expect(colourOnlyAccuracy(rows)).toBeLessThan(0.65);
  });

  it('draws the same items at either difficulty: same size and format, another scene', async () => {
    const easy = new SyntheticSource({ seed: 9, n: 8 });
    const hard = new SyntheticSource({ seed: 9, n: 8, difficulty: 'hard' });
    expect(easy.difficulty).toBe('easy');
    expect(hard.id).toBe('synthetic:seed=9,n=8,difficulty=hard');
    const items = await easy.list();
    expect(await hard.list()).toEqual(items);
    for (const it of items.slice(0, 4)) {
      const [a, b] = [await easy.read(it), await hard.read(it)];
      expect(a.equals(b)).toBe(false);
      const [ma, mb] = [await sharp(a).metadata(), await sharp(b).metadata()];
      expect([ma.width, ma.height, ma.format]).toEqual([mb.width, mb.height, mb.format]);
    }
  });

  it('at the default difficulty keeps the subject inside the centre square that preparation crops', () => {
    // The subject group is the last <g transform="translate(cx cy) ..."> before any foreground shapes; check every
    // placement of a cat (the only animal with slit pupils) lies near the middle of a wide image.
    for (let i = 0; i < 30; i++) {
      const svg = syntheticSvg('cat', seedrandom(`centre${i}`), 160, 96);
      const placed = [...svg.matchAll(/<g transform="translate\(([\d.]+) ([\d.]+)\) rotate\((-?[\d.]+)\)/g)];
      expect(placed.length).toBeGreaterThan(0);
      const [, cx, cy, rot] = placed[placed.length - 1].map(Number);
      expect(Math.abs(cx - 80)).toBeLessThanOrEqual(96 * 0.08 + 0.1);
      expect(Math.abs(cy - 48)).toBeLessThanOrEqual(96 * 0.08 + 0.1);
      expect(Math.abs(rot)).toBeLessThanOrEqual(12);
    }
  });

  it('rejects bad options and foreign items with clear errors', async () => {
    expect(() => new SyntheticSource({ difficulty: 'medium' as 'easy' })).toThrow(/difficulty must be one of easy, hard; got 'medium'/);
    expect(() => new SyntheticSource({ n: 0 })).toThrow(/n must be/);
    expect(() => new SyntheticSource({ seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => new SyntheticSource({ minSize: 200, maxSize: 100 })).toThrow(/minSize/);
    expect(() => new SyntheticSource({ mix: { cat: 1, horse: 1 } })).toThrow(/horse/);
    const s = new SyntheticSource({ n: 4 });
    await expect(s.read({ path: 'cat/synth-1-99.png', group: 'cat', source: 'synthetic' })).rejects.toThrow(/no item/);
  });
});

describe('parseSyntheticSpec', () => {
  it('reads seed, n, sizes and group weights', () => {
    expect(parseSyntheticSpec('synthetic')).toEqual({});
    expect(parseSyntheticSpec('synthetic:seed=7,n=400')).toEqual({ seed: 7, n: 400 });
    expect(parseSyntheticSpec(' synthetic:n=10, cat=2,dog=1,minSize=64,maxSize=128 ')).toEqual({
      n: 10, minSize: 64, maxSize: 128, mix: { cat: 2, dog: 1 },
    });
    const s = new SyntheticSource(parseSyntheticSpec('synthetic:seed=7,n=400'));
    expect(s.id).toBe('synthetic:seed=7,n=400');
    expect(new SyntheticSource(parseSyntheticSpec('synthetic:n=10,cat=3,dog=1')).id).toBe('synthetic:seed=1,n=10,cat=0.75,dog=0.25');
    expect(parseSyntheticSpec('synthetic:seed=2,difficulty=hard')).toEqual({ seed: 2, difficulty: 'hard' });
    expect(parseSyntheticSpec('synthetic:difficulty=easy')).toEqual({ difficulty: 'easy' });
    expect(new SyntheticSource(parseSyntheticSpec('synthetic:difficulty=easy')).id).toBe('synthetic:seed=1,n=800');
  });

  it('is what openSource returns for synthetic specs', async () => {
    const s = await openSource('synthetic:seed=7,n=400');
    expect(s).toBeInstanceOf(SyntheticSource);
    expect(s.id).toBe('synthetic:seed=7,n=400');
    expect((await s.list()).length).toBe(400);
    expect((await openSource('synthetic')).id).toBe('synthetic:seed=1,n=800');
    await expect(openSource('synthetic:n=x')).rejects.toThrow(/expected key=number/);
  });

  it('rejects what it does not know', () => {
    expect(() => parseSyntheticSpec('synthetix:n=1')).toThrow(/not a synthetic source spec/);
    expect(() => parseSyntheticSpec('synthetic:colour=3')).toThrow(/unknown synthetic option 'colour'/);
    expect(() => parseSyntheticSpec('synthetic:n=lots')).toThrow(/expected key=number/);
    expect(() => parseSyntheticSpec('synthetic:seed')).toThrow(/expected key=number/);
    expect(() => parseSyntheticSpec('synthetic:difficulty=3')).toThrow(/difficulty must be one of easy, hard/);
  });
});

describe('renderSynthetic', () => {
  it('honours an explicit size and format and refuses unknown groups', async () => {
    const buf = await renderSynthetic('dog', seedrandom('x'), { width: 100, height: 50, format: 'jpeg' });
    const meta = await sharp(buf).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([100, 50, 'jpeg']);
    await expect(renderSynthetic('horse', seedrandom('x'))).rejects.toThrow(/cat, dog, selfie, misc/);
  });

  it('draws a complete scene per group from the generator alone', () => {
    for (let i = 0; i < 20; i++) {
      const scenes = GROUPS.map((g) => syntheticSvg(g as 'cat', seedrandom(`c${i}`), 120, 90));
      for (const svg of scenes) {
        expect(svg).toMatch(/^<svg [^>]*width="120" height="90"/);
        expect(svg.endsWith('</svg>')).toBe(true);
      }
      expect(syntheticSvg('cat', seedrandom(`c${i}`), 120, 90)).toBe(scenes[0]);
      // Only faces have eye whites; only cats have slit-pupil almond eyes (outlined #151210).
      expect(scenes[2]).toContain('#f4f1ec');
      expect(scenes[0]).not.toContain('#f4f1ec');
      expect(scenes[0]).toContain('#151210');
      expect(scenes[1]).not.toContain('#151210');
    }
  });
});

describe('renderContactSheet', () => {
  it('makes one row per group and one column per sample', async () => {
    const png = await renderContactSheet(new SyntheticSource({ n: 40 }), { perGroup: 3, cell: 32, labels: false, groups: GROUPS });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([3 * 34 + 2, 4 * 34 + 2]);
    const labelled = await sharp(await renderContactSheet(new SyntheticSource({ n: 40 }), { perGroup: 2, cell: 48 })).metadata();
    expect(labelled.width).toBe(64 + 2 * 50 + 2);
  });
});
