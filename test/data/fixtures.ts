import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import seedrandom from 'seedrandom';
import sharp, { type Sharp } from 'sharp';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `areyouacat-${prefix}-`));
}

/** A distinct photo-like test image: a seeded random 6x5 colour grid, smoothly enlarged to width x height. */
export async function patternImage(seed: string, width = 120, height = 90): Promise<Sharp> {
  const rng = seedrandom(seed);
  const gw = 6;
  const gh = 5;
  const grid = Buffer.alloc(gw * gh * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = Math.floor(40 + rng() * 180);
  const raw = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

export async function patternJpeg(seed: string, width = 120, height = 90, quality = 90): Promise<Buffer> {
  return (await patternImage(seed, width, height)).jpeg({ quality }).toBuffer();
}

/** A PNG whose header claims width x height, with a tiny (invalid) body: a decompression bomb's header. */
export function bombPngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 2x2 24-bit BMP (a real image format sharp cannot read). */
export function tinyBmp(): Buffer {
  const rowSize = 8; // 2 pixels * 3 bytes, padded to 4
  const pixelBytes = rowSize * 2;
  const buf = Buffer.alloc(54 + pixelBytes);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(2, 18);
  buf.writeInt32LE(2, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(pixelBytes, 34);
  buf.fill(0x80, 54);
  return buf;
}

export function writeFile(root: string, rel: string, data: Buffer | string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

export const CATS_V1 = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
