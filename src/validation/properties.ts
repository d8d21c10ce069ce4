import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { paths } from '../storage/paths.js';
import writeFileAtomicLib from 'write-file-atomic';
import { differenceHash } from '../data/phash.js';
import type { ImageProperties, PropertyValues } from './types.js';

/** Bump when the measurement changes: old cache entries are then ignored. */
export const PROPERTIES_VERSION = 2;

const GRID = 8;
const HIST_BINS = 8;
const HUE_BINS = 12;
const ORIENT_BINS = 8;

function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

const TAN_22 = Math.tan(Math.PI / 8), TAN_67 = Math.tan((3 * Math.PI) / 8);

/** Which of 8 orientation bins (22.5 degrees each, sign ignored) a gradient falls in, without atan2. */
function orientationBin(gx: number, gy: number): number {
  if (gy < 0) { gx = -gx; gy = -gy; }
  if (gx >= 0) return gy < TAN_22 * gx ? 0 : gy < gx ? 1 : gy < TAN_67 * gx ? 2 : 3;
  const a = -gx;
  return gy < TAN_22 * a ? 7 : gy < a ? 6 : gy < TAN_67 * a ? 5 : 4;
}

type Appearance = Pick<ImageProperties, 'brightness' | 'contrast' | 'sharpness' | 'colourfulness' | 'saturation'>;

/**
 * Appearance properties of an RGB image (row-major, 3 channels). Sharpness is the variance of the 4-neighbour
 * Laplacian of the grey image; colourfulness follows Hasler and Suesstrunk (2003); saturation is the mean HSV
 * saturation.
 */
export function measureAppearance(rgb: Uint8Array, w: number, h: number): Appearance {
  const n = w * h;
  if (rgb.length < n * 3) throw new Error(`pixel buffer too short for ${w}x${h}x3`);
  const grey = new Float64Array(n);
  let sumY = 0, sumY2 = 0, sumRg = 0, sumRg2 = 0, sumYb = 0, sumYb2 = 0, sumSat = 0;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = rgb[p], g = rgb[p + 1], b = rgb[p + 2];
    const y = luma(r, g, b);
    grey[i] = y;
    sumY += y; sumY2 += y * y;
    const rg = r - g, yb = 0.5 * (r + g) - b;
    sumRg += rg; sumRg2 += rg * rg; sumYb += yb; sumYb2 += yb * yb;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    if (max > 0) sumSat += (max - min) / max;
  }
  const mean = (s: number) => s / n;
  const std = (s: number, s2: number) => Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  let lapSum = 0, lapSum2 = 0, lapN = 0;
  for (let yy = 1; yy < h - 1; yy++) {
    for (let i = yy * w + 1, end = yy * w + w - 1; i < end; i++) {
      const lap = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
      lapSum += lap; lapSum2 += lap * lap; lapN++;
    }
  }
  return {
    brightness: round4(mean(sumY)),
    contrast: round4(std(sumY, sumY2)),
    sharpness: round4(lapN ? lapSum2 / lapN - (lapSum / lapN) ** 2 : 0),
    colourfulness: round4(Math.sqrt(std(sumRg, sumRg2) ** 2 + std(sumYb, sumYb2) ** 2) + 0.3 * Math.sqrt(mean(sumRg) ** 2 + mean(sumYb) ** 2)),
    saturation: round4(mean(sumSat)),
  };
}

/**
 * Content features for the label-error model: an 8x8 box-averaged RGB layout (squashed: layout, not shape),
 * RGB histograms, a saturation-weighted hue histogram, a gradient-orientation histogram and texture statistics.
 */
export function contentFeatures(rgb: Uint8Array, w: number, h: number, a: Appearance): number[] {
  const n = w * h;
  const hist = new Float64Array(3 * HIST_BINS);
  const hue = new Float64Array(HUE_BINS);
  const cells = new Float64Array(GRID * GRID * 3);
  const counts = new Float64Array(GRID * GRID);
  const grey = new Float64Array(n);
  for (let yy = 0, p = 0; yy < h; yy++) {
    const cy = Math.min(GRID - 1, Math.floor((yy * GRID) / h));
    for (let xx = 0; xx < w; xx++, p += 3) {
      const r = rgb[p], g = rgb[p + 1], b = rgb[p + 2];
      grey[yy * w + xx] = luma(r, g, b);
      const c = cy * GRID + Math.min(GRID - 1, Math.floor((xx * GRID) / w));
      cells[3 * c] += r; cells[3 * c + 1] += g; cells[3 * c + 2] += b;
      counts[c]++;
      hist[(r * HIST_BINS) >> 8]++;
      hist[HIST_BINS + ((g * HIST_BINS) >> 8)]++;
      hist[2 * HIST_BINS + ((b * HIST_BINS) >> 8)]++;
      const max = r > g ? (r > b ? r : b) : g > b ? g : b;
      const min = r < g ? (r < b ? r : b) : g < b ? g : b;
      if (max > min) {
        const d = max - min;
        let hh = max === r ? (g - b) / d : max === g ? 2 + (b - r) / d : 4 + (r - g) / d;
        hh = (hh / 6 + 1) % 1;
        hue[Math.min(HUE_BINS - 1, Math.floor(hh * HUE_BINS))] += d / max;
      }
    }
  }
  let gSum = 0, gSum2 = 0, gN = 0, edges = 0;
  const orient = new Float64Array(ORIENT_BINS);
  for (let yy = 1; yy < h - 1; yy++) {
    for (let xx = 1; xx < w - 1; xx++) {
      const i = yy * w + xx;
      const gx = grey[i + 1] - grey[i - 1], gy = grey[i + w] - grey[i - w];
      const mag = Math.sqrt(gx * gx + gy * gy);
      gSum += mag; gSum2 += mag * mag; gN++;
      if (mag > 32) edges++;
      orient[orientationBin(gx, gy)] += mag;
    }
  }
  const gMean = gN ? gSum / gN : 0;
  const gStd = gN ? Math.sqrt(Math.max(0, gSum2 / gN - gMean * gMean)) : 0;
  const features: number[] = [];
  for (let c = 0; c < GRID * GRID; c++) for (let k = 0; k < 3; k++) features.push(round4(cells[3 * c + k] / Math.max(1, counts[c]) / 255));
  for (const v of hist) features.push(round4(v / n));
  const hueTotal = hue.reduce((s, v) => s + v, 0) || 1;
  for (const v of hue) features.push(round4(v / hueTotal));
  const orientTotal = orient.reduce((s, v) => s + v, 0) || 1;
  for (const v of orient) features.push(round4(v / orientTotal));
  features.push(
    round4(a.brightness / 255), round4(a.contrast / 128), round4(Math.log1p(a.sharpness) / 10), round4(a.colourfulness / 100),
    round4(a.saturation), round4(gMean / 100), round4(gStd / 100), round4(gN ? edges / gN : 0),
  );
  return features;
}

/** Appearance, given geometry and content features of one RGB image. */
export function measurePixels(rgb: Uint8Array, w: number, h: number, geometry: { width: number; height: number }): Omit<ImageProperties, 'dhash'> {
  const appearance = measureAppearance(rgb, w, h);
  return {
    ...appearance,
    width: geometry.width,
    height: geometry.height,
    aspect: round4(geometry.width / geometry.height),
    features: contentFeatures(rgb, w, h, appearance),
  };
}

/** Number of content features `measurePixels` returns (the label model's input width). */
export const FEATURE_COUNT = GRID * GRID * 3 + 3 * HIST_BINS + HUE_BINS + ORIENT_BINS + 8;

/**
 * Decode an image file, shrink it so its longest side is `size` (EXIF-rotated, alpha flattened) and measure it:
 * one decode. Geometry is the rotated file's; pass it when known (a manifest has it) to skip reading the header.
 */
export async function measureImageFile(buf: Buffer, size = 64, geometry?: { width: number; height: number }): Promise<ImageProperties> {
  let width = geometry?.width ?? 0, height = geometry?.height ?? 0;
  if (!(width > 0 && height > 0)) {
    const meta = await sharp(buf).metadata();
    width = meta.autoOrient?.width ?? meta.width ?? 0;
    height = meta.autoOrient?.height ?? meta.height ?? 0;
    if (!width || !height) throw new Error('image header has no dimensions');
  }
  const { data, info } = await sharp(buf, { failOn: 'truncated' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'inside', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  const props = measurePixels(data, info.width, info.height, { width, height });
  const dhash = info.width >= 9 && info.height >= 8 ? differenceHash(data, info.width, info.height) : '';
  return { ...props, dhash };
}

/** Appearance and geometry of one prepared image (size x size x 3 bytes, image `index` of a split). */
export function measurePreparedImage(pixels: Uint8Array, size: number, index: number): PropertyValues {
  const len = size * size * 3;
  return { ...measureAppearance(pixels.subarray(index * len, (index + 1) * len), size, size), width: size, height: size, aspect: 1 };
}

/** Properties cached by content hash, so re-validating the same files decodes nothing. */
export class PropertyCache {
  readonly dir: string;
  constructor(size: number, root = path.join(paths.root(), 'cache', 'properties')) {
    this.dir = path.join(root, `v${PROPERTIES_VERSION}-s${size}`);
  }
  private file(sha256: string): string {
    if (!/^[0-9a-f]{16,}$/.test(sha256)) throw new Error(`property cache key is not a hex digest: "${sha256}"`);
    return path.join(this.dir, sha256.slice(0, 2), `${sha256}.json`);
  }
  async get(sha256: string): Promise<ImageProperties | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(sha256), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const value = JSON.parse(text) as ImageProperties;
      return Array.isArray(value.features) && value.features.length === FEATURE_COUNT ? value : undefined;
    } catch {
      return undefined; // a damaged cache file is measured again
    }
  }
  async set(sha256: string, props: ImageProperties): Promise<void> {
    // Atomic (temp file + rename) but not fsynced: a cache entry lost in a crash is simply measured again.
    const file = this.file(sha256);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomicLib(file, JSON.stringify(props), { fsync: false });
  }
}
