import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Split } from '../../src/data/types.js';
import { addFile, check, prepare, run, tempHome, type Built } from './fixtures.js';

const dataDir = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
const present = fs.existsSync(path.join(dataDir, 'manifest.csv'));
if (!present) console.warn(`cats-v1 not found at ${dataDir} (set AREYOUACAT_CATS_V1): skipping the real-data validation test`);

/** 60 photos per group of the real set (every 25th row), split by position: small enough for a unit test. */
describe.skipIf(!present)('validation on a sample of cats-v1', () => {
  let home: string;
  const b: Built = { entries: [], files: new Map() };

  beforeAll(async () => {
    home = tempHome();
    const rows = parse<{ path: string; label: string }>(fs.readFileSync(path.join(dataDir, 'manifest.csv')), { columns: true });
    const perGroup = new Map<string, number>();
    for (const [i, row] of rows.entries()) {
      if (i % 25 !== 0 || (perGroup.get(row.label) ?? 0) >= 60) continue;
      const k = perGroup.get(row.label) ?? 0;
      perGroup.set(row.label, k + 1);
      const split: Split = k % 5 === 0 ? 'val' : k % 5 === 1 ? 'test' : 'train';
      await addFile(b, row.path, fs.readFileSync(path.join(dataDir, row.path)), row.label, split);
    }
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('names the width/height/aspect shortcut, and reports it mitigated once the prepared images are square', async () => {
    expect(b.entries.length).toBe(240);
    const raw = check(await run(b), 'property-label-correlation');
    expect(raw.status).toBe('fail');
    expect(raw.summary).toMatch(/SHORTCUT: width .* predict the group/);
    const prepared = check(await run(b, undefined, await prepare(b, 32)), 'property-label-correlation');
    expect(prepared.status).toBe('warn');
    expect(prepared.summary).toContain('mitigated by preparation');
    const medians = (prepared.evidence.raw as Array<{ property: string; groupMedians: Record<string, number> }>).find((p) => p.property === 'width')!.groupMedians;
    expect(medians.misc).toBeLessThan(medians.cat);
  });
});
