import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { css, f, hsl, mix, Pen, Rng } from './pen.js';
import { checkDifficulty, DEFAULT_DIFFICULTY, SCENE_SETTINGS, type SceneSettings, type SyntheticDifficulty } from './difficulty.js';
import { drawCat, drawDog, drawFace, drawMisc, MISC_KINDS, randomShape, Subject } from './subjects.js';

/** The groups the synthetic renderer can draw. */
export const SYNTHETIC_GROUPS = ['cat', 'dog', 'selfie', 'misc'] as const;
export type SyntheticGroup = (typeof SYNTHETIC_GROUPS)[number];

export type SyntheticFormat = 'png' | 'jpeg';

/** Pixel size and file format of one image; drawn without looking at the group, so they say nothing about it. */
export interface ImageShape {
  width: number;
  height: number;
  format: SyntheticFormat;
}

export interface RenderOptions extends Partial<ImageShape> {
  /** Bounds for width and height when they are drawn at random. Defaults 96 and 160. */
  minSize?: number;
  maxSize?: number;
  /** How hard the scene is to read (see difficulty.ts). Default 'easy'. */
  difficulty?: SyntheticDifficulty;
}

export const DEFAULT_MIN_SIZE = 96;
export const DEFAULT_MAX_SIZE = 160;

/**
 * Width, height and format of an image: width and height each in [minSize, maxSize] (a quarter of images square),
 * PNG or JPEG with equal odds. Call it with a generator that the group never touches.
 */
export function pickImageShape(rng: Rng, minSize = DEFAULT_MIN_SIZE, maxSize = DEFAULT_MAX_SIZE): ImageShape {
  checkSizes(minSize, maxSize);
  const p = new Pen(rng);
  const width = p.int(minSize, maxSize);
  const height = p.chance(0.25) ? width : p.int(minSize, maxSize);
  return { width, height, format: p.chance(0.5) ? 'png' : 'jpeg' };
}

export function checkSizes(minSize: number, maxSize: number): void {
  if (!Number.isInteger(minSize) || !Number.isInteger(maxSize) || minSize < 16 || maxSize > 4096 || minSize > maxSize) {
    throw new Error(`synthetic image sizes must be whole numbers with 16 <= minSize <= maxSize <= 4096; got minSize=${minSize}, maxSize=${maxSize}`);
  }
}

function subjectFor(group: SyntheticGroup, p: Pen): Subject {
  switch (group) {
    case 'cat':
      return drawCat(p);
    case 'dog':
      return drawDog(p);
    case 'selfie':
      return drawFace(p);
    case 'misc':
      return drawMisc(p);
  }
}

function background(p: Pen, w: number, h: number, scene: SceneSettings): string {
  const a = p.anyColour();
  let b = p.chance(0.5) ? p.anyColour() : mix(a, p.anyColour(), 0.35);
  const kind = p.pick(scene.backgrounds);
  const full = `x="0" y="0" width="${w}" height="${h}"`;
  if (kind === 'linear' || kind === 'landscape') {
    const id = p.id('g');
    const t = p.uni(0, Math.PI * 2);
    const [x1, y1, x2, y2] = kind === 'landscape' ? [0.5, 0, 0.5, 1] : [0.5 - Math.cos(t) / 2, 0.5 - Math.sin(t) / 2, 0.5 + Math.cos(t) / 2, 0.5 + Math.sin(t) / 2];
    let s = `<defs><linearGradient id="${id}" x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}"><stop offset="0" stop-color="${css(a)}"/><stop offset="1" stop-color="${css(b)}"/></linearGradient></defs><rect ${full} fill="url(#${id})"/>`;
    if (kind === 'landscape') {
      const ground = hsl(p.uni(20, 140), p.uni(0.2, 0.6), p.uni(0.2, 0.55));
      const y = h * p.uni(0.45, 0.8);
      s += `<path d="M0 ${f(y)}Q${f(w / 2)} ${f(y + p.uni(-h / 5, h / 5))} ${w} ${f(y)}V${h}H0Z" fill="${css(ground)}"/>`;
    }
    return s;
  }
  if (kind === 'radial') {
    const id = p.id('g');
    return `<defs><radialGradient id="${id}" cx="${f(p.uni(0.2, 0.8))}" cy="${f(p.uni(0.2, 0.8))}" r="${f(p.uni(0.4, 0.9))}"><stop offset="0" stop-color="${css(a)}"/><stop offset="1" stop-color="${css(b)}"/></radialGradient></defs><rect ${full} fill="url(#${id})"/>`;
  }
  if (kind === 'solid') return `<rect ${full} fill="${css(a)}"/>`;
  if (scene.textureBlend > 0) b = mix(b, a, scene.textureBlend);
  // Textures as one path of many small shapes: much cheaper to rasterize than an SVG <pattern>.
  const size = p.uni(kind === 'stripes' ? 6 : 10, 24);
  const span = Math.hypot(w, h);
  const steps = Math.ceil(span / 2 / size);
  let d = '';
  for (let i = -steps; i <= steps; i++) {
    const x = f(w / 2 + i * size);
    if (kind === 'stripes') {
      d += `M${x} ${f(h / 2 - span)}h${f(size / 2)}v${f(2 * span)}h${f(-size / 2)}Z`;
      continue;
    }
    for (let j = -steps; j <= steps; j++) {
      const y = h / 2 + j * size;
      if (kind === 'dots') {
        const r = size * 0.28;
        d += `M${f(w / 2 + i * size - r)} ${f(y)}a${f(r)} ${f(r)} 0 1 0 ${f(2 * r)} 0a${f(r)} ${f(r)} 0 1 0 ${f(-2 * r)} 0Z`;
      } else if ((i + j) % 2 === 0) {
        d += `M${x} ${f(y)}h${f(size)}v${f(size)}h${f(-size)}Z`;
      }
    }
  }
  return `<rect ${full} fill="${css(a)}"/><path d="${d}" fill="${css(b)}" transform="rotate(${f(p.uni(0, 180))} ${f(w / 2)} ${f(h / 2)})"/>`;
}

function place(subject: Subject, p: Pen, cx: number, cy: number, size: number, rotation: number): string {
  const extent = Math.max(subject.bottom - subject.top, 2 * subject.halfWidth);
  const s = size / extent;
  const mirror = p.chance(0.5) ? -1 : 1;
  const yc = (subject.top + subject.bottom) / 2;
  return `<g transform="translate(${f(cx)} ${f(cy)}) rotate(${f(rotation)}) scale(${Math.round(mirror * s * 1000) / 1000} ${Math.round(s * 1000) / 1000}) translate(0 ${f(-yc)})">${subject.svg}</g>`;
}

/**
 * The SVG scene for one image: a random background, background clutter (shapes, and at `hard` small everyday
 * objects, in every group), the subject at a random size, position, rotation and mirroring, sometimes a foreground
 * occluder and a lighting wash. How big, busy and tilted is set by the difficulty. Deterministic for a given
 * generator state.
 */
export function syntheticSvg(
  group: SyntheticGroup, rng: Rng, width: number, height: number, difficulty: SyntheticDifficulty = DEFAULT_DIFFICULTY,
): string {
  const scene = SCENE_SETTINGS[difficulty];
  const p = new Pen(rng);
  const m = Math.min(width, height);
  let s = background(p, width, height, scene);
  const clutter = p.int(scene.clutter[0], scene.clutter[1]);
  for (let i = 0; i < clutter; i++) {
    s += randomShape(p, p.uni(0, width), p.uni(0, height), m * p.uni(scene.clutterSize[0], scene.clutterSize[1]), css(p.anyColour()));
  }
  if (p.chance(scene.strayObject)) {
    s += place(drawMisc(p, p.pick(MISC_KINDS)), p, p.uni(0, width), p.uni(0, height), m * p.uni(0.2, 0.4), p.uni(-20, 20));
  }
  const rotation = p.chance(scene.mildRotation) ? p.uni(-scene.mildRange, scene.mildRange) : p.uni(-scene.wildRange, scene.wildRange);
  const size = m * p.uni(scene.subjectSize[0], scene.subjectSize[1]);
  // Centred: within 8% of the shorter side of the middle, so the square centre crop keeps the whole subject.
  const cx = scene.placement === 'anywhere' ? width * p.uni(0.3, 0.7) : width / 2 + m * p.uni(-0.08, 0.08);
  const cy = scene.placement === 'anywhere' ? height * p.uni(0.3, 0.7) : height / 2 + m * p.uni(-0.08, 0.08);
  s += place(subjectFor(group, p), p, cx, cy, size, rotation);
  if (group === 'misc' && p.chance(scene.secondMisc)) {
    s += place(drawMisc(p), p, p.uni(0, width), p.uni(0, height), m * p.uni(0.3, 0.55), p.uni(-25, 25));
  }
  if (p.chance(scene.occluder)) {
    const r = size * p.uni(scene.occluderSize[0], scene.occluderSize[1]);
    s += randomShape(p, cx + p.sign() * size * p.uni(0.25, 0.5), cy + p.uni(-0.4, 0.4) * size, r, css(p.anyColour()));
  }
  if (p.chance(scene.wash)) {
    const id = p.id('l');
    const light = p.chance(0.5);
    s += `<defs><linearGradient id="${id}" x1="${f(p.rng())}" y1="0" x2="${f(p.rng())}" y2="1"><stop offset="0" stop-color="${light ? '#fff' : '#000'}" stop-opacity="${f(p.uni(0.1, scene.washOpacity))}"/><stop offset="1" stop-color="${light ? '#fff' : '#000'}" stop-opacity="0"/></linearGradient></defs><rect width="${width}" height="${height}" fill="url(#${id})"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${s}</svg>`;
}

/** Standard normal samples (sum of three uniforms, scaled), made once from a fixed seed and shared by all images. */
const NOISE_TABLE_SIZE = 1 << 17;
let noiseTable: Float32Array | undefined;
function standardNoise(): Float32Array {
  if (noiseTable) return noiseTable;
  const rng = seedrandom('synthetic-noise-table');
  noiseTable = new Float32Array(NOISE_TABLE_SIZE);
  for (let i = 0; i < NOISE_TABLE_SIZE; i++) noiseTable[i] = (rng() + rng() + rng() - 1.5) * 2;
  return noiseTable;
}

/**
 * Add Gaussian-like pixel noise to RGBA pixels and drop the alpha channel: the table is read from a seeded offset
 * with a seeded odd stride, so each image gets its own noise pattern. `mono` adds the same value to R, G and B.
 */
function noisyRgb(rgba: Buffer, rng: Rng, sigma: number, mono: boolean): Buffer {
  const out = Buffer.allocUnsafe((rgba.length / 4) * 3);
  const table = standardNoise();
  const mask = NOISE_TABLE_SIZE - 1;
  let k = Math.floor(rng() * NOISE_TABLE_SIZE);
  const stride = (Math.floor(rng() * 2000) * 2 + 1) | 0;
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    if (mono) {
      const n = table[(k = (k + stride) & mask)] * sigma;
      for (let c = 0; c < 3; c++) {
        const v = rgba[i + c] + n;
        out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    } else {
      for (let c = 0; c < 3; c++) {
        const v = rgba[i + c] + table[(k = (k + stride) & mask)] * sigma;
        out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/**
 * Render one synthetic image of `group` as an encoded PNG or JPEG. All randomness comes from `rng`: the same
 * generator state gives the same bytes. Width, height and format are always drawn first from `rng` (before anything
 * group-specific); values given in `opts` replace the drawn ones.
 */
export async function renderSynthetic(group: string, rng: Rng, opts: RenderOptions = {}): Promise<Buffer> {
  if (!(SYNTHETIC_GROUPS as readonly string[]).includes(group)) {
    throw new Error(`the synthetic renderer draws the groups ${SYNTHETIC_GROUPS.join(', ')}; got '${group}'`);
  }
  const drawn = pickImageShape(rng, opts.minSize ?? DEFAULT_MIN_SIZE, opts.maxSize ?? DEFAULT_MAX_SIZE);
  const width = opts.width ?? drawn.width;
  const height = opts.height ?? drawn.height;
  const format = opts.format ?? drawn.format;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8 || width > 4096 || height > 4096) {
    throw new Error(`synthetic image size must be whole numbers from 8 to 4096; got ${width}x${height}`);
  }
  if (format !== 'png' && format !== 'jpeg') throw new Error(`synthetic format must be 'png' or 'jpeg'; got '${format}'`);
  const difficulty = checkDifficulty(opts.difficulty ?? DEFAULT_DIFFICULTY);
  const scene = SCENE_SETTINGS[difficulty];
  const svg = syntheticSvg(group as SyntheticGroup, rng, width, height, difficulty);
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const p = new Pen(rng);
  const rgb = noisyRgb(data, rng, p.chance(scene.clean) ? 0 : p.uni(scene.noise[0], scene.noise[1]), p.chance(0.3));
  let img = sharp(rgb, { raw: { width: info.width, height: info.height, channels: 3 } });
  if (p.chance(scene.blur)) img = img.blur(p.uni(0.4, 1.1));
  return format === 'png' ? img.png({ compressionLevel: 3 }).toBuffer() : img.jpeg({ quality: p.int(60, 95) }).toBuffer();
}
