import { thumbnailDataUri } from '../data/thumbnail.js';
import type { DataSource, PreparedSplit } from '../data/types.js';
import type { Thumbnail } from '../evaluation/slices.js';

/** Thumbnails of a split's images (fitted inside size x size on white), read from the source they were ingested from. */
export function splitThumbnailer(source: DataSource, split: Pick<PreparedSplit, 'paths' | 'groups'>, size = 96): Thumbnail {
  const groupOf = new Map(split.paths.map((p, i) => [p, split.groups[i]]));
  return async (p: string) =>
    thumbnailDataUri(await source.read({ path: p, group: groupOf.get(p) ?? '', source: source.id }), { size, fit: 'inside', background: '#ffffff', lenient: true });
}
