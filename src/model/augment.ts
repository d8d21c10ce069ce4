/** On-the-fly image augmentation while building float batches from RGB bytes. */
export interface AugmentationOptions {
  /** Mirror left-right with probability 0.5. */
  flip?: boolean;
  /** Crop a random window of at least (1 - crop) of each side and scale it back (nearest neighbour). */
  crop?: number;
  /** Add a uniform random offset in [-brightness, brightness] (pixel values are in [0, 1]). */
  brightness?: number;
  /** Scale the contrast around the image mean by a factor in [1 - contrast, 1 + contrast]. */
  contrast?: number;
}

export const DEFAULT_AUGMENTATION: Required<AugmentationOptions> = { flip: true, crop: 0.15, brightness: 0.1, contrast: 0.2 };

export function resolveAugmentation(a: boolean | AugmentationOptions | undefined): Required<AugmentationOptions> | null {
  if (!a) return null;
  if (a === true) return DEFAULT_AUGMENTATION;
  return { flip: a.flip ?? false, crop: a.crop ?? 0, brightness: a.brightness ?? 0, contrast: a.contrast ?? 0 };
}

/**
 * Write image `index` of `pixels` (n x size x size x 3 bytes) into `out` at `offset` as floats in [0, 1],
 * augmented with draws from `random` when `aug` is given. One pass, no intermediate buffers.
 */
export function writeImage(
  pixels: Uint8Array,
  size: number,
  index: number,
  out: Float32Array,
  offset: number,
  aug: Required<AugmentationOptions> | null,
  random: () => number,
): void {
  const imageBytes = size * size * 3;
  const src = index * imageBytes;
  if (!aug) {
    for (let i = 0; i < imageBytes; i++) out[offset + i] = pixels[src + i] / 255;
    return;
  }
  const flip = aug.flip && random() < 0.5;
  const side = Math.max(1, Math.round(size * (1 - aug.crop * random())));
  const y0 = Math.floor(random() * (size - side + 1));
  const x0 = Math.floor(random() * (size - side + 1));
  const brightness = (random() * 2 - 1) * aug.brightness;
  const contrast = 1 + (random() * 2 - 1) * aug.contrast;
  const scale = side / size;
  let sum = 0;
  for (let y = 0; y < size; y++) {
    const sy = y0 + Math.min(side - 1, Math.floor(y * scale));
    for (let x = 0; x < size; x++) {
      const xx = flip ? size - 1 - x : x;
      const sx = x0 + Math.min(side - 1, Math.floor(xx * scale));
      const s = src + (sy * size + sx) * 3;
      const d = offset + (y * size + x) * 3;
      const r = pixels[s] / 255;
      const g = pixels[s + 1] / 255;
      const b = pixels[s + 2] / 255;
      out[d] = r;
      out[d + 1] = g;
      out[d + 2] = b;
      sum += r + g + b;
    }
  }
  const mean = sum / imageBytes;
  for (let i = offset; i < offset + imageBytes; i++) {
    const v = (out[i] - mean) * contrast + mean + brightness;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}
