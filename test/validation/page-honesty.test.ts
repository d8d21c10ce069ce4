/**
 * Issue 26, first run: the validation page showed "(no thumbnail)" for most outliers, and the shortcut check said
 * "pass" beside "shortcut gone after preparation: no", talking about a backbone the model did not have.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDataset } from '../../src/validation/validate.js';
import { evidenceFacts } from '../../src/site/validation.js';
import { addFile, build, check, cleanSpecs, makeImage, prepare, tempHome, type Built } from './fixtures.js';

let home: string;
let clean: Built;

beforeAll(async () => {
  home = tempHome();
  clean = await build(cleanSpecs());
}, 120_000);
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const validate = (b: Built, extra: { prepared?: Awaited<ReturnType<typeof prepare>>; backbone?: string | null } = {}) =>
  validateDataset({ dataset: 'test-set', entries: b.entries, readImage: async (e) => b.files.get(e.path)!, ...extra });

describe('validation evidence as the page shows it', () => {
  it('every listed outlier has its thumbnail', async () => {
    const b: Built = { entries: clean.entries.map((e) => ({ ...e })), files: new Map(clean.files) };
    for (let i = 0; i < 10; i++) await addFile(b, `misc/dark-${i}.png`, await makeImage({ group: 'misc', shift: -150, seed: `dark-${i}` }), 'misc', 'train');
    const c = check(await validate(b), 'property-outliers');
    const brightness = (c.evidence.properties as Array<{ property: string; outliers: Array<{ thumbnail?: string }> }>).find((p) => p.property === 'brightness')!;
    expect(brightness.outliers.length).toBe(10);
    expect(brightness.outliers.filter((o) => !o.thumbnail)).toEqual([]);
  }, 120_000);

  it('a passing shortcut check for a CNN without a backbone says nothing of a backbone, nor "gone after preparation: no"', async () => {
    const c = check(await validate(clean, { prepared: await prepare(clean), backbone: null }), 'property-label-correlation');
    expect(c.status).toBe('pass');
    expect(c.summary).not.toMatch(/backbone/);
    const facts = evidenceFacts(c.evidence);
    const gone = facts.find((f) => f.label === 'shortcut gone after preparation');
    expect(gone?.value).toBe('no shortcut in the files to remove');
  }, 120_000);
});
