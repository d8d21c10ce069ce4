import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../../src/model/backbones.js';
import fs from 'node:fs';
import sharp from 'sharp';
import { hammingDistance } from '../../src/data/phash.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFile, build, check, cleanSpecs, makeImage, prepare, run, tempHome, type Built } from './fixtures.js';

let home: string;
let clean: Built;
let cleanReport: Awaited<ReturnType<typeof run>>;
const copy = (b: Built): Built => ({ entries: b.entries.map((e) => ({ ...e })), files: new Map(b.files) });

beforeAll(async () => {
  home = tempHome();
  clean = await build(cleanSpecs());
  cleanReport = await run(clean, undefined, await prepare(clean));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('a clean, balanced, split data set', () => {
  it('passes every check', () => {
    expect(cleanReport.checks.map((c) => [c.id, c.status])).toEqual([
      ['integrity', 'pass'],
      ['group-balance', 'pass'],
      ['duplicates', 'pass'],
      ['split-leakage', 'pass'],
      ['property-outliers', 'pass'],
      ['property-drift', 'pass'],
      ['property-label-correlation', 'pass'],
      ['label-errors', 'pass'],
    ]);
    expect(cleanReport.summary).toEqual({ pass: 8, warn: 0, fail: 0 });
    expect(cleanReport.counts).toMatchObject({ entries: 96, accepted: 96, measured: 96, prepared: 96 });
  });
});

describe('integrity', () => {
  it('fails on unreadable, tiny, extreme-aspect and near-constant images and counts rejections by reason', async () => {
    const b = copy(clean);
    await addFile(b, 'cat/broken.jpg', Buffer.from('this is not an image'), 'cat', 'train');
    await addFile(b, 'dog/tiny.png', await makeImage({ group: 'dog', width: 20, height: 20, seed: 'tiny' }), 'dog', 'train');
    await addFile(b, 'misc/strip.png', await makeImage({ group: 'misc', width: 300, height: 40, seed: 'strip' }), 'misc', 'train');
    await addFile(b, 'selfie/grey.png', await makeImage({ group: 'selfie', constant: 128, seed: 'grey' }), 'selfie', 'train');
    const vanished = await addFile(b, 'cat/vanished.png', await makeImage({ group: 'cat', seed: 'gone' }), 'cat', 'train');
    b.files.delete(vanished.path);
    const c = check(await run(b), 'integrity');
    expect(c.status).toBe('fail');
    expect(c.evidence.problemCounts).toEqual({ unreadable: 1, tiny: 1, 'extreme-aspect': 1, 'near-constant': 1 });
    expect(c.evidence.rejectedByReason).toEqual([expect.objectContaining({ reason: 'not a readable image', count: 1 })]);
    const problems = c.evidence.problems as Array<{ path: string; problem: string }>;
    expect(problems.map((p) => `${p.problem}:${p.path}`).sort()).toEqual([
      'extreme-aspect:misc/strip.png', 'near-constant:selfie/grey.png', 'tiny:dog/tiny.png', 'unreadable:cat/vanished.png',
    ]);
    expect(c.summary).toContain('1 rejected (not a readable image: 1)');
  });

  it('only warns when a few files were rejected (they are already excluded)', async () => {
    const b = copy(clean);
    await addFile(b, 'cat/notes.txt', Buffer.from('hello'), 'cat');
    const c = check(await run(b), 'integrity');
    expect(c.status).toBe('warn');
    expect(c.evidence.rejected).toBe(1);
  });
});

describe('group balance', () => {
  it('fails when a group is far below its share of the mix, and names it', async () => {
    const b = copy(clean);
    const dogs = b.entries.filter((e) => e.group === 'dog').slice(0, 18).map((e) => e.path);
    b.entries = b.entries.filter((e) => !dogs.includes(e.path));
    const c = check(await run(b), 'group-balance');
    expect(c.status).toBe('fail');
    expect(c.summary).toMatch(/dog/);
    const row = (c.evidence.rows as Array<{ split: string; group: string; count: number }>).find((r) => r.split === 'all' && r.group === 'dog');
    expect(row?.count).toBe(6);
  });

  it('respects a configured mix', async () => {
    const c = check(await run(clean, { mix: { cat: 0.5, dog: 0.5 / 3, selfie: 0.5 / 3, misc: 0.5 / 3 } }), 'group-balance');
    expect(c.status).toBe('fail');
    expect(c.summary).toMatch(/cat/);
  });
});

describe('duplicates and leakage', () => {
  it('finds exact and near copies inside a split, and copies across splits', async () => {
    const b = copy(clean);
    const [t1, t2, t3] = b.entries.filter((e) => e.split === 'train' && e.group === 'cat');
    await addFile(b, 'cat/exact-copy.png', b.files.get(t1.path)!, 'cat', 'train');
    const recoded = await sharp(b.files.get(t2.path)).resize(60, 60).jpeg({ quality: 85 }).toBuffer();
    await addFile(b, 'cat/near-copy.jpg', recoded, 'cat', 'train');
    await addFile(b, 'cat/leaked.png', b.files.get(t3.path)!, 'cat', 'test');
    const report = await run(b);
    const dup = check(report, 'duplicates');
    expect(dup.status).toBe('warn');
    const clusters = dup.evidence.clusters as Array<{ kind: string; members: Array<{ path: string; thumbnail?: string }> }>;
    const sets = clusters.map((c) => `${c.kind}:${c.members.map((m) => m.path).sort().join('+')}`).sort();
    expect(sets).toEqual([`exact:${[t1.path, 'cat/exact-copy.png'].sort().join('+')}`, `near:${['cat/near-copy.jpg', t2.path].sort().join('+')}`]);
    expect(clusters[0].members[0].thumbnail).toMatch(/^data:image\/jpeg;base64,/);
    const leak = check(report, 'split-leakage');
    expect(leak.status).toBe('fail');
    expect(leak.evidence.pairs).toEqual([{ a: t3.path, b: 'cat/leaked.png', splits: 'train/test' }]);
    expect(leak.summary).toContain('cat/leaked.png');
  });

  it('fails when copies make up a large share of a split', async () => {
    const b = copy(clean);
    const train = b.entries.filter((e) => e.split === 'train').slice(0, 10);
    for (const [i, e] of train.entries()) await addFile(b, `${e.group}/copy-${i}.png`, b.files.get(e.path)!, e.group, 'train');
    expect(check(await run(b), 'duplicates').status).toBe('fail');
  });

  it('does not call different aligned images near duplicates when only their grey gradients agree', async () => {
    // Same structure, different colours: identical difference hashes, clearly different pictures.
    const b = await build(Array.from({ length: 6 }, (_, i) => ({ group: 'selfie', split: 'train' as const, texture: 'shared', seed: `aligned-${i}` })));
    for (const e of b.entries) expect(hammingDistance(e.phash, b.entries[0].phash)).toBeLessThanOrEqual(6);
    expect(check(await run(b, { duplicates: { maxLayoutDifference: 1 } }), 'duplicates').evidence.clusterCount).toBe(1);
    expect(check(await run(b), 'duplicates').evidence.clusterCount).toBe(0);
  });
});

describe('property outliers', () => {
  it('lists images with extreme brightness', async () => {
    const b = copy(clean);
    for (let i = 0; i < 3; i++) {
      await addFile(b, `misc/dark-${i}.png`, await makeImage({ group: 'misc', shift: -150, seed: `dark-${i}` }), 'misc', 'train');
    }
    const c = check(await run(b), 'property-outliers');
    expect(c.status).toBe('warn');
    const brightness = (c.evidence.properties as Array<{ property: string; outliers: Array<{ path: string }> }>).find((p) => p.property === 'brightness')!;
    expect(brightness.outliers.map((o) => o.path).sort()).toEqual(['misc/dark-0.png', 'misc/dark-1.png', 'misc/dark-2.png']);
    const dist = (c.evidence.distributions as Array<{ property: string; series: Array<{ split: string; group: string; n: number }> }>).find((d) => d.property === 'brightness')!;
    expect(dist.series.find((s) => s.split === 'train' && s.group === 'misc')?.n).toBe(15);
  });
});

describe('property drift', () => {
  it('fails when the test split is much brighter than train', async () => {
    const specs = cleanSpecs().map((s) => (s.split === 'test' ? { ...s, shift: 70 } : s));
    const c = check(await run(await build(specs)), 'property-drift');
    expect(c.status).toBe('fail');
    const row = (c.evidence.rows as Array<{ split: string; property: string; status: string; ks: number }>).find((r) => r.split === 'test' && r.property === 'brightness')!;
    expect(row.status).toBe('fail');
    expect(row.ks).toBeGreaterThan(0.5);
    expect(c.summary).toContain('brightness train->test');
  });
});

describe('shortcuts (property-label correlation)', () => {
  const shaped = () => cleanSpecs().map((s) => (s.group === 'cat' ? { ...s, width: 96, height: 72 } : s.group === 'misc' ? { ...s, width: 40, height: 40 } : s));

  it('fails when width/height/aspect predict the group and no prepared data shows otherwise', async () => {
    const c = check(await run(await build(shaped())), 'property-label-correlation');
    expect(c.status).toBe('fail');
    expect(c.summary).toMatch(/SHORTCUT: width .*height.*aspect/);
    expect(c.evidence.flagged).toMatchObject({ raw: expect.arrayContaining(['width', 'height', 'aspect']) });
  });

  it('warns and reports the shortcut as mitigated when the prepared images no longer carry it', async () => {
    const b = await build(shaped());
    const c = check(await run(b, undefined, await prepare(b, 32)), 'property-label-correlation');
    expect(c.status).toBe('warn');
    expect(c.evidence.mitigatedByPreparation).toBe(true);
    expect(c.summary).toContain('mitigated by preparation');
    const prepared = c.evidence.prepared as Array<{ property: string; groupScore: number; labelAuc: number }>;
    expect(prepared.find((p) => p.property === 'width')).toMatchObject({ groupScore: 0, labelAuc: 0.5 });
    // The whole view a backbone model sees keeps the (quantised) aspect, which the report shows; what the head
    // reads is the pooled feature vector, one shape for every photo: no signal.
    const whole = c.evidence.wholeView as { viewAspect: { groupScore: number }; headInput: { groupScore: number; labelAuc: number }; headInputs: number };
    expect(whole.headInput).toEqual({ groupScore: 0, labelAuc: 0.5 });
    expect(whole.headInputs).toBe(backboneSpec(DEFAULT_PHOTO_BACKBONE).features);
    expect(whole.viewAspect.groupScore).toBeGreaterThanOrEqual(0); // at 32 px the 32 px grid makes most views square
    expect(c.summary).toMatch(/whole view keeps each photo's aspect.*head's input has one shape for every photo \(its geometry scores 0\)/);
  });

  it('fails when a strict property still predicts the group after preparation', async () => {
    const b = await build(cleanSpecs().map((s) => (s.group === 'cat' ? { ...s, shift: 60 } : s)));
    const c = check(await run(b, { shortcuts: { strictProperties: ['brightness'] } }, await prepare(b, 32)), 'property-label-correlation');
    expect(c.status).toBe('fail');
    expect(c.summary).toContain('survives preparation: brightness');
  });
});

describe('label-error candidates', () => {
  it('ranks images whose content looks like another group, with thumbnails', async () => {
    const specs = cleanSpecs();
    const flipped = [3, 30, 60].map((i) => {
      specs[i] = { ...specs[i], looksLike: specs[(i + 30) % specs.length].group };
      return i;
    });
    const b = await build(specs);
    const c = check(await run(b), 'label-errors');
    expect(c.status).toBe('warn');
    const candidates = c.evidence.candidates as Array<{ path: string; givenGroup: string; predictedGroup: string; thumbnail: string }>;
    expect(candidates.map((x) => x.path).sort()).toEqual(flipped.map((i) => b.entries[i].path).sort());
    for (const x of candidates) {
      const spec = specs[b.entries.findIndex((e) => e.path === x.path)];
      expect(x.predictedGroup).toBe(spec.looksLike);
      expect(x.thumbnail).toMatch(/^data:image\/jpeg;base64,/);
    }
    expect(c.evidence.limits).toMatch(/weak model/);
  });
});
