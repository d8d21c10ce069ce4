/**
 * 64-bit difference hash (dHash): the image in grey (Rec. 601 luma), averaged over a 9x8 grid of boxes, one bit
 * per horizontally adjacent pair of boxes (1 when the left one is brighter). Robust to re-encoding, resizing and
 * small brightness changes. Computed from decoded RGB bytes (one pass, no second decode). 16 hex characters.
 */
export function differenceHash(rgb: Uint8Array, width: number, height: number): string {
  if (rgb.length !== width * height * 3 || width < 9 || height < 8) throw new Error(`differenceHash needs >= 9x8 RGB pixels, got ${width}x${height}`);
  const sums = new Float64Array(72);
  const counts = new Float64Array(72);
  const cellX = new Int32Array(width);
  for (let x = 0; x < width; x++) cellX[x] = Math.floor((x * 9) / width);
  let p = 0;
  for (let y = 0; y < height; y++) {
    const rowBase = Math.floor((y * 8) / height) * 9;
    for (let x = 0; x < width; x++, p += 3) {
      const c = rowBase + cellX[x];
      sums[c] += 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
      counts[c]++;
    }
  }
  let hex = '';
  for (let row = 0; row < 8; row++) {
    let byte = 0;
    for (let col = 0; col < 8; col++) {
      const left = sums[row * 9 + col] / counts[row * 9 + col];
      const right = sums[row * 9 + col + 1] / counts[row * 9 + col + 1];
      byte = (byte << 1) | (left > right ? 1 : 0);
    }
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** Split 16-hex-character hashes into high and low 32-bit words for fast Hamming distances. */
export function hashWords(hashes: readonly string[]): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(hashes.length);
  const lo = new Uint32Array(hashes.length);
  hashes.forEach((h, i) => {
    if (!/^[0-9a-f]{16}$/.test(h)) throw new Error(`not a 64-bit difference hash: "${h}"`);
    hi[i] = parseInt(h.slice(0, 8), 16);
    lo[i] = parseInt(h.slice(8), 16);
  });
  return { hi, lo };
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of differing bits between two hashes given as hex strings. */
export function hammingDistance(a: string, b: string): number {
  const w = hashWords([a, b]);
  return popcount32(w.hi[0] ^ w.hi[1]) + popcount32(w.lo[0] ^ w.lo[1]);
}
