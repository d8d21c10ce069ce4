/** Mirror each of `n` square RGB images (`size` x `size` x 3 bytes, row-major) left-right, into a new buffer. */
export function mirrorSquares(pixels: Uint8Array, n: number, size: number): Uint8Array {
  const out = new Uint8Array(n * size * size * 3);
  for (let img = 0; img < n; img++) {
    for (let y = 0; y < size; y++) {
      const row = (img * size + y) * size * 3;
      for (let x = 0; x < size; x++) {
        const src = row + x * 3;
        const dst = row + (size - 1 - x) * 3;
        out[dst] = pixels[src];
        out[dst + 1] = pixels[src + 1];
        out[dst + 2] = pixels[src + 2];
      }
    }
  }
  return out;
}
