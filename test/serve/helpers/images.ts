import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

/** A photo-like JPEG (smooth gradients plus noise) of the given size. */
export async function makeJpeg(width = 320, height = 240, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed * 2654435761;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      raw[i] = (x * 255) / width + rnd() * 30;
      raw[i + 1] = (y * 255) / height + rnd() * 30;
      raw[i + 2] = 128 + 60 * Math.sin((x + y) / 17) + rnd() * 30;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** A JPEG carrying EXIF with a GPS position and a camera make. */
export async function makeJpegWithGps(): Promise<Buffer> {
  const base = await makeJpeg(200, 150, 7);
  return sharp(base)
    .withExif({
      IFD0: { Make: 'SecretCam', Model: 'Model X', Copyright: 'owner' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
    })
    .jpeg()
    .toBuffer();
}

function crc32(buf: Buffer): number {
  return zlib.crc32(buf);
}

/**
 * A tiny PNG whose header claims `side` x `side` pixels: a decompression bomb as a decoder sees it (the header
 * alone makes it allocate side*side*3 bytes).
 */
export async function makePngBomb(side = 100_000): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
  const out = Buffer.from(png);
  // IHDR data starts at byte 16: width (4), height (4); its CRC follows the 13 data bytes.
  out.writeUInt32BE(side, 16);
  out.writeUInt32BE(side, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

/** A real photo from the cats-v1 data set when it is present beside the project, else undefined. */
export function catsV1Photo(): Buffer | undefined {
  const root = process.env.AREYOUACAT_CATS_V1 ?? path.resolve('../shared/datasets/cats-v1');
  try {
    const dir = path.join(root, 'cat');
    const name = fs.readdirSync(dir).find((n) => n.endsWith('.jpg'));
    return name ? fs.readFileSync(path.join(dir, name)) : undefined;
  } catch {
    return undefined;
  }
}
