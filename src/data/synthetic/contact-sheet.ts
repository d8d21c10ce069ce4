import sharp from 'sharp';
import { writeFileAtomic } from '../../storage/atomic.js';
import type { DataSource, SourceItem } from '../types.js';

export interface ContactSheetOptions {
  /** Images per group (one row per group). Default 8. */
  perGroup?: number;
  /** Cell size in pixels; images are fitted inside, keeping their aspect. Default 96. */
  cell?: number;
  /** Groups to show, in row order. Default: the groups of the source in order of first appearance. */
  groups?: string[];
  /** Label each row with its group name. Default true. */
  labels?: boolean;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A grid PNG of sample images from any data source: one row per group, the first `perGroup` items of each group
 * in the source's listing order, each fitted into a `cell` x `cell` square on a dark background.
 */
export async function renderContactSheet(source: DataSource, opts: ContactSheetOptions = {}): Promise<Buffer> {
  const perGroup = opts.perGroup ?? 8;
  const cell = opts.cell ?? 96;
  if (!Number.isInteger(perGroup) || perGroup < 1 || perGroup > 100) throw new Error(`perGroup must be 1..100; got ${perGroup}`);
  if (!Number.isInteger(cell) || cell < 16 || cell > 1024) throw new Error(`cell must be 16..1024 pixels; got ${cell}`);
  const items = await source.list();
  const byGroup = new Map<string, SourceItem[]>();
  for (const it of items) {
    const list = byGroup.get(it.group) ?? [];
    if (list.length < perGroup) list.push(it);
    byGroup.set(it.group, list);
  }
  const groups = opts.groups ?? [...byGroup.keys()];
  if (!groups.length) throw new Error(`${source.id} has no images to show`);
  const gap = 2;
  const label = opts.labels === false ? 0 : Math.max(64, Math.round(cell * 0.9));
  const width = label + perGroup * (cell + gap) + gap;
  const height = groups.length * (cell + gap) + gap;
  const layers: { input: Buffer; left: number; top: number }[] = [];
  for (const [row, group] of groups.entries()) {
    const top = gap + row * (cell + gap);
    if (label) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${label}" height="${cell}"><text x="${label - 8}" y="${cell / 2 + 6}" font-family="DejaVu Sans, sans-serif" font-size="16" fill="#eee" text-anchor="end">${escapeXml(group)}</text></svg>`;
      layers.push({ input: Buffer.from(svg), left: 0, top });
    }
    const list = byGroup.get(group) ?? [];
    const tiles = await Promise.all(
      list.map(async (it) => {
        try {
          return await sharp(await source.read(it))
            .resize(cell, cell, { fit: 'contain', background: '#202020' })
            .removeAlpha()
            .png()
            .toBuffer();
        } catch (err) {
          throw new Error(`cannot show ${it.path} from ${source.id}: ${(err as Error).message}`);
        }
      }),
    );
    tiles.forEach((input, col) => layers.push({ input, left: label + gap + col * (cell + gap), top }));
  }
  return sharp({ create: { width, height, channels: 3, background: '#111111' } }).composite(layers).png().toBuffer();
}

/** Write a contact sheet PNG to `file` (atomically). */
export async function writeContactSheet(source: DataSource, file: string, opts: ContactSheetOptions = {}): Promise<void> {
  await writeFileAtomic(file, await renderContactSheet(source, opts));
}
