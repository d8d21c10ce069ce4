import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import { paths } from '../storage/paths.js';
import { PREPARE_VERSION, RESIZE_KERNEL } from './prepare.js';

/**
 * Prepared pixels are cached as one pack file per (set of image contents, preparation settings):
 * `<preparedCache>/<key>.pack` = "AYCPACK1" + u32le header length + JSON header {size, shas} + n*size*size*3
 * bytes, row i holding the image whose sha256 is shas[i]. One sequential read loads a whole data set; rows are
 * stored in split order, so a split whose images are contiguous in the pack is a view, not a copy.
 */
const MAGIC = Buffer.from('AYCPACK1', 'latin1');

export interface PackSettings {
  size: number;
}

export interface Pack {
  key: string;
  size: number;
  shas: string[];
  /** n * size * size * 3 bytes. */
  pixels: Uint8Array;
  /** Row index of an image, or -1. */
  indexOf(sha: string): number;
  row(sha: string): Uint8Array | undefined;
}

function settingsText(s: PackSettings): string {
  return JSON.stringify({ prepare: PREPARE_VERSION, kernel: RESIZE_KERNEL, size: s.size });
}

/** Cache key for a set of image contents (order does not matter) prepared with given settings. */
export function packKey(shas: Iterable<string>, settings: PackSettings): string {
  const h = createHash('sha256').update(settingsText(settings));
  for (const s of [...new Set(shas)].sort()) h.update(s);
  return h.digest('hex');
}

export function packFile(key: string): string {
  return path.join(paths.preparedCache(), `${key}.pack`);
}

function makePack(key: string, size: number, shas: string[], pixels: Uint8Array): Pack {
  const stride = size * size * 3;
  const index = new Map(shas.map((s, i) => [s, i]));
  return {
    key, size, shas, pixels,
    indexOf: (sha) => index.get(sha) ?? -1,
    row: (sha) => {
      const i = index.get(sha);
      return i === undefined ? undefined : pixels.subarray(i * stride, (i + 1) * stride);
    },
  };
}

/** Write a pack with rows in the map's order (ingest uses split order, so each split loads as one slice). */
export async function writePack(key: string, size: number, rows: Map<string, Uint8Array>): Promise<Pack> {
  const shas = [...rows.keys()];
  const stride = size * size * 3;
  const header = Buffer.from(JSON.stringify({ size, shas }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = new Uint8Array(shas.length * stride);
  shas.forEach((s, i) => {
    const r = rows.get(s)!;
    if (r.length !== stride) throw new Error(`prepared image ${s} has ${r.length} bytes, expected ${stride}`);
    body.set(r, i * stride);
  });
  await writeFileAtomic(packFile(key), Buffer.concat([MAGIC, len, header, body]));
  return makePack(key, size, shas, body);
}

/** Read a file with as few large reads as possible (fs.readFile reads in 512 KiB pieces through the thread pool). */
async function readWhole(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) throw new Error(`${file} shrank while being read`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Read a pack; undefined when absent. A damaged pack is an error that names the file (delete it to rebuild). */
export async function readPack(key: string): Promise<Pack | undefined> {
  const file = packFile(key);
  let buf: Buffer;
  try {
    buf = await readWhole(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const bad = (why: string) => new Error(`prepared cache ${file} is damaged (${why}); delete it to rebuild`);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw bad('bad magic');
  const hlen = buf.readUInt32LE(8);
  let header: { size: number; shas: string[] };
  try {
    header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as typeof header;
  } catch {
    throw bad('bad header');
  }
  const stride = header.size * header.size * 3;
  const pixels = new Uint8Array(buf.buffer, buf.byteOffset + 12 + hlen, buf.length - 12 - hlen);
  if (pixels.length !== header.shas.length * stride) throw bad(`expected ${header.shas.length * stride} pixel bytes, found ${pixels.length}`);
  return makePack(key, header.size, header.shas, pixels);
}
