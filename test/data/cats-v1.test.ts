import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../src/data/ingest.js';
import { FolderSource } from '../../src/data/sources/folder.js';
import type { SourceItem } from '../../src/data/types.js';
import { CATS_V1, tempDir } from './fixtures.js';

const present = fs.existsSync(path.join(CATS_V1, 'manifest.csv'));
if (!present) console.warn(`cats-v1 smoke test skipped: ${CATS_V1} not found (set AREYOUACAT_CATS_V1)`);

/** The first files of each group only, to keep the test short. */
class SubsetSource extends FolderSource {
  constructor(root: string, private readonly perGroup: number) {
    super(root);
  }
  async list(): Promise<SourceItem[]> {
    const all = await super.list();
    const taken = new Map<string, number>();
    return all.filter((it) => {
      const n = taken.get(it.group) ?? 0;
      taken.set(it.group, n + 1);
      return n < this.perGroup;
    });
  }
}

describe.skipIf(!present)('cats-v1 smoke (subset)', () => {
  const home = tempDir('cats-v1-home');
  const oldHome = process.env.AREYOUACAT_HOME;
  process.env.AREYOUACAT_HOME = home;
  afterAll(() => {
    process.env.AREYOUACAT_HOME = oldHome;
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('ingests 60 photos per group: all accepted, sha256 and sizes match the shipped manifest, 64x64 RGB out', async () => {
    const { manifest, summary, prepared } = await ingestDataset({ source: new SubsetSource(CATS_V1, 60), name: 'cats-v1-subset' });
    expect(summary.files).toBe(240);
    expect(summary.rejected).toBe(0);
    expect(summary.selected).toBe(240);
    const shipped = new Map(
      parse<Record<string, string>>(fs.readFileSync(path.join(CATS_V1, 'manifest.csv'), 'utf8'), { columns: true }).map((r) => [r.path, r]),
    );
    for (const e of manifest) {
      const row = shipped.get(e.path)!;
      expect(e.sha256).toBe(row.sha256);
      expect(e.source).toBe(row.source);
      expect([e.width, e.height]).toEqual([Number(row.width), Number(row.height)]);
      expect(e.group).toBe(row.label);
    }
    for (const g of ['cat', 'dog', 'selfie', 'misc']) {
      expect(summary.splits.train[g] + summary.splits.val[g] + summary.splits.test[g]).toBe(60);
      expect(summary.splits.test[g]).toBeGreaterThanOrEqual(5);
    }
    expect(prepared.size).toBe(64);
    expect(prepared.train.pixels.length).toBe(prepared.train.n * 64 * 64 * 3);
    // Prepared images are not constant (a decoding bug would give flat images).
    const px = prepared.test.pixels;
    expect(Math.max(...px.subarray(0, 5000)) - Math.min(...px.subarray(0, 5000))).toBeGreaterThan(50);
  });
});
