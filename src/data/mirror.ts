/**
 * Mirror RGB images left-right into a new array of the same type: `rows` rows (every image's, one after another)
 * of `width` pixels, 3 values each, row-major.
 */
export function mirrorRows<T extends Uint8Array | Float32Array>(pixels: T, rows: number, width: number): T {
  const out = new (pixels.constructor as new (n: number) => T)(rows * width * 3);
  for (let r = 0; r < rows; r++) {
    const row = r * width * 3;
    for (let x = 0; x < width; x++) {
      const src = row + x * 3;
      const dst = row + (width - 1 - x) * 3;
      out[dst] = pixels[src];
      out[dst + 1] = pixels[src + 1];
      out[dst + 2] = pixels[src + 2];
    }
  }
  return out;
}

/** Mirror each of `n` square RGB images (`size` x `size` x 3 bytes, row-major) left-right, into a new buffer. */
export function mirrorSquares(pixels: Uint8Array, n: number, size: number): Uint8Array {
  return mirrorRows(pixels, n * size, size);
}
