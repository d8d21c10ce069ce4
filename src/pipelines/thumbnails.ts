import type { DataSource, PreparedSplit } from '../data/types.js';
import type { Thumbnail } from '../evaluation/slices.js';
import { thumbnailDataUri } from '../validation/thumbnails.js';

/** Thumbnails of a split's images, read from the source they were ingested from. */
export function splitThumbnailer(source: DataSource, split: Pick<PreparedSplit, 'paths' | 'groups'>, size = 96): Thumbnail {
  const groupOf = new Map(split.paths.map((p, i) => [p, split.groups[i]]));
  return async (p: string) => thumbnailDataUri(await source.read({ path: p, group: groupOf.get(p) ?? '', source: source.id }), size);
}
