/** A random number in [0, 1), e.g. a seedrandom generator. Everything synthetic is drawn from one of these. */
export type Rng = () => number;

export type Rgb = [number, number, number];

/** Random choices and SVG formatting shared by the synthetic drawings. */
export class Pen {
  private ids = 0;
  constructor(readonly rng: Rng) {}

  uni(a: number, b: number): number {
    return a + (b - a) * this.rng();
  }
  int(a: number, b: number): number {
    return Math.floor(this.uni(a, b + 1));
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)];
  }
  sign(): number {
    return this.rng() < 0.5 ? -1 : 1;
  }
  /** A fresh id for gradients, patterns and clip paths inside one SVG document. */
  id(prefix: string): string {
    return `${prefix}${this.ids++}`;
  }
  /** A colour moved by up to `amount` on each channel, so no two animals share an exact shade. */
  jitter(c: Rgb, amount = 18): Rgb {
    return [0, 1, 2].map((i) => clampByte(c[i] + this.uni(-amount, amount))) as Rgb;
  }
  /** Any colour at all (backgrounds, clutter, cars, shirts). */
  anyColour(): Rgb {
    return hsl(this.uni(0, 360), this.uni(0.05, 0.85), this.uni(0.12, 0.9));
  }
}

export function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

export function hex(h: string): Rgb {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function hsl(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [clampByte(f(0) * 255), clampByte(f(8) * 255), clampByte(f(4) * 255)];
}

/** CSS colour text for an Rgb. */
export function css(c: Rgb): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function shade(c: Rgb, factor: number): Rgb {
  return [clampByte(c[0] * factor), clampByte(c[1] * factor), clampByte(c[2] * factor)];
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => clampByte(a[i] * (1 - t) + b[i] * t)) as Rgb;
}

export function luma(c: Rgb): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** A number for SVG text, one decimal at most. */
export function f(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/**
 * Fur colours, shared by cats and dogs on purpose (a ginger dog, a grey cat), and overlapping with skin tones
 * (cream, tan, brown), so that colour alone cannot tell the groups apart.
 */
export const FUR: Rgb[] = [
  '#d9822b', '#e8a048', '#efd9b0', '#f2efe8', '#8a8d91', '#55585c', '#26231f', '#7a4e2d', '#4b3020',
  '#d6a24e', '#b98b5a', '#b9bcc0', '#c9a27a', '#3b3b3b',
].map(hex);

export const SKIN: Rgb[] = ['#f6d7c3', '#eac0a0', '#e0ac84', '#d6a07a', '#b97e56', '#8d5a3b', '#6e452d', '#5e3a26'].map(hex);

export const HAIR: Rgb[] = [
  '#1e1a17', '#2e221b', '#4b3020', '#7a4e2d', '#b07a3e', '#d9b26a', '#e8d39a', '#a4432a', '#8a8d91', '#d8d8d8',
  '#9b3f8f', '#3f6fb0',
].map(hex);

export const EYE_CAT: Rgb[] = ['#8fc43f', '#e6c229', '#e39b2d', '#6fa8dc', '#b5c935'].map(hex);
export const EYE_HUMAN: Rgb[] = ['#5a3a22', '#3b2616', '#6f8fb0', '#5f8a4e', '#8a6a3a'].map(hex);
