import sharp, { type OverlayOptions } from 'sharp';

/** One picture of a grid: encoded image bytes or a `data:image/...;base64,` URI, with an optional caption. */
export interface GridTile {
  image: Buffer | Uint8Array | string;
  /** Short text under the picture (cut to fit the cell). */
  caption?: string;
  /** Frame colour (CSS colour), e.g. red for a wrong prediction. */
  frame?: string;
}

export interface ImageGridOptions {
  /** Pictures per row. Default 8. */
  columns?: number;
  /** Cell side in pixels; pictures are fitted inside keeping their aspect. Default 96. */
  cell?: number;
  /** Title line above the grid. */
  title?: string;
}

const GAP = 4;
const CAPTION = 16;
const TITLE = 24;
const FONT = 'DejaVu Sans, sans-serif';

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function imageBytes(image: GridTile['image'], index: number): Buffer {
  if (typeof image !== 'string') return Buffer.from(image);
  const m = /^data:image\/[a-z+.-]+;base64,(.*)$/i.exec(image);
  if (!m) throw new Error(`tile ${index}: a string image must be a data:image/...;base64 URI`);
  return Buffer.from(m[1], 'base64');
}

/** Cut a caption so it fits a cell (about 6.5 px per character at the caption size). */
function fitCaption(text: string, width: number): string {
  const max = Math.max(3, Math.floor(width / 6.5));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function svgLayer(width: number, height: number, body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`);
}

/**
 * A PNG grid of pictures for notebooks: error galleries, label-error candidates, samples of a group. Each picture
 * is fitted into a `cell` x `cell` square on a dark background, with its caption underneath when any tile has one.
 */
export async function renderImageGrid(tiles: GridTile[], opts: ImageGridOptions = {}): Promise<Buffer> {
  const cell = opts.cell ?? 96;
  const columns = Math.min(opts.columns ?? 8, Math.max(tiles.length, 1));
  if (!Number.isInteger(cell) || cell < 16 || cell > 1024) throw new Error(`cell must be 16..1024 pixels; got ${cell}`);
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`columns must be a positive integer; got ${opts.columns}`);
  if (tiles.length === 0) throw new Error('renderImageGrid needs at least one tile');
  const caption = tiles.some((t) => t.caption) ? CAPTION : 0;
  const title = opts.title ? TITLE : 0;
  const rows = Math.ceil(tiles.length / columns);
  const width = GAP + columns * (cell + GAP);
  const height = title + GAP + rows * (cell + caption + GAP);
  const layers: OverlayOptions[] = [];
  if (opts.title) {
    layers.push({ input: svgLayer(width, TITLE, `<text x="${GAP}" y="17" font-family="${FONT}" font-size="15" fill="#eee">${escapeXml(opts.title)}</text>`), left: 0, top: 0 });
  }
  const pictures = await Promise.all(
    tiles.map(async (t, i) => {
      try {
        return await sharp(imageBytes(t.image, i), { failOn: 'none' })
          .rotate()
          .resize(cell, cell, { fit: 'contain', background: '#202020' })
          .flatten({ background: '#202020' })
          .png()
          .toBuffer();
      } catch (err) {
        throw new Error(`tile ${i}${t.caption ? ` (${t.caption})` : ''} is not a readable image: ${(err as Error).message}`);
      }
    }),
  );
  tiles.forEach((t, i) => {
    const left = GAP + (i % columns) * (cell + GAP);
    const top = title + GAP + Math.floor(i / columns) * (cell + caption + GAP);
    layers.push({ input: pictures[i], left, top });
    if (t.frame) {
      const frame = `<rect x="1" y="1" width="${cell - 2}" height="${cell - 2}" fill="none" stroke="${escapeXml(t.frame)}" stroke-width="3"/>`;
      layers.push({ input: svgLayer(cell, cell, frame), left, top });
    }
    if (t.caption) {
      const text = `<text x="${cell / 2}" y="12" font-family="${FONT}" font-size="11" fill="#ddd" text-anchor="middle">${escapeXml(fitCaption(t.caption, cell))}</text>`;
      layers.push({ input: svgLayer(cell, CAPTION, text), left, top: top + cell });
    }
  });
  return sharp({ create: { width, height, channels: 3, background: '#111111' } }).composite(layers).png().toBuffer();
}

/** A PNG of one prepared image (`size` x `size` RGB bytes at `index` of a prepared split), to see what the model sees. */
export async function preparedImagePng(split: { size: number; n: number; pixels: Uint8Array }, index: number): Promise<Buffer> {
  if (!Number.isInteger(index) || index < 0 || index >= split.n) throw new Error(`image index ${index} is outside the split (0..${split.n - 1})`);
  const stride = split.size * split.size * 3;
  const pixels = Buffer.from(split.pixels.buffer, split.pixels.byteOffset + index * stride, stride);
  return sharp(pixels, { raw: { width: split.size, height: split.size, channels: 3 } }).png().toBuffer();
}
