import path from 'node:path';
import { readPromoted } from '../registry/registry.js';
import { paths } from '../storage/paths.js';
import { exists, readJson } from '../storage/atomic.js';
import { openSource } from '../data/sources/index.js';
import { thumbnailDataUri } from '../data/thumbnail.js';
import type { IngestSummary, SplitFile } from '../data/ingest.js';

/** A photo of the promoted model's test split for the predict page: shown small, given to the model as is. */
export interface PredictSample {
  path: string;
  group: string;
  /** data: URI of a JPEG fitted inside `PHOTO_SIDE` pixels on white (what the page runs the model on). */
  photo: string;
}

/** Big enough for the largest model input (256 px) to be cut from it without enlarging. */
const PHOTO_SIDE = 320;

/** Up to `perGroup` test photos of each group (the split's first ones: the same on every build), none when not at hand. */
export async function predictSamples(perGroup = 2): Promise<PredictSample[]> {
  const promoted = await readPromoted();
  const name = promoted?.card.dataset.name;
  if (!name || name.includes('/') || name.includes('..')) return [];
  const dir = paths.dataset(name);
  if (!(await exists(path.join(dir, 'split.json'))) || !(await exists(path.join(dir, 'summary.json')))) return [];
  const split = await readJson<SplitFile>(path.join(dir, 'split.json'));
  const summary = await readJson<IngestSummary>(path.join(dir, 'summary.json'));
  const source = await openSource(summary.source).catch(() => null);
  if (!source) return [];
  const rows = split.splits.test ?? [];
  const groups = [...new Set(rows.map((r) => r.group))].sort((a, b) => (a === 'cat' ? -1 : b === 'cat' ? 1 : a.localeCompare(b)));
  const out: PredictSample[] = [];
  for (const group of groups) {
    for (const row of rows.filter((r) => r.group === group).slice(0, perGroup)) {
      try {
        const bytes = await source.read({ path: row.path, group: row.group, source: source.id });
        const photo = await thumbnailDataUri(bytes, { size: PHOTO_SIDE, fit: 'inside', background: '#ffffff', quality: 88, lenient: true });
        out.push({ path: row.path, group: row.group, photo });
      } catch {
        // A photo that moved or cannot be read is left out of the row.
      }
    }
  }
  return out;
}
