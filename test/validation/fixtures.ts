import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { inspectImage } from '../../src/data/inspect.js';
import type { ManifestEntry, PreparedSplit, Split } from '../../src/data/types.js';
import { prepareImage } from '../../src/data/prepare.js';
import type { ValidationConfigInput } from '../../src/validation/config.js';
import { validateDataset } from '../../src/validation/validate.js';

export const GROUPS = ['cat', 'dog', 'selfie', 'misc'] as const;
/** Where each group's bright blob sits: content a model can learn, with the same global statistics per group. */
const CORNERS: Record<string, [number, number]> = { cat: [0.25, 0.25], dog: [0.75, 0.25], selfie: [0.25, 0.75], misc: [0.75, 0.75] };

export interface Spec {
  group: string;
  split?: Split;
  width?: number;
  height?: number;
  /** Shift added to every channel (brightness change). */
  shift?: number;
  /** Every pixel this grey level. */
  constant?: number;
  /** Draw the blob of this group instead (a wrong label when it differs from `group`). */
  looksLike?: string;
  /** Seed of the texture alone (same texture + different seed = same structure, different colours). */
  texture?: string;
  seed: string;
}

/** A random textured image with a bright blob in a corner that depends on the group, encoded as PNG. */
export async function makeImage(spec: Spec): Promise<Buffer> {
  const w = spec.width ?? 64, h = spec.height ?? 64;
  const rng = seedrandom(spec.seed);
  const px = Buffer.alloc(w * h * 3);
  const base = [60 + rng() * 80, 60 + rng() * 80, 60 + rng() * 80];
  const [cx, cy] = CORNERS[spec.looksLike ?? spec.group] ?? [0.5, 0.5];
  const textureRng = spec.texture ? seedrandom(spec.texture) : rng;
  const cell = 4 + Math.floor(textureRng() * 4);
  const noise = new Float64Array(Math.ceil(w / cell) * Math.ceil(h / cell) * 3).map(() => (textureRng() - 0.5) * 60);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x / w - cx, y / h - cy);
      const blob = d < 0.22 ? 90 : 0;
      for (let c = 0; c < 3; c++) {
        const n = noise[((Math.floor(y / cell) * Math.ceil(w / cell)) + Math.floor(x / cell)) * 3 + c];
        const v = spec.constant ?? base[c] + blob + n + (spec.shift ?? 0);
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** A manifest row for an image, checked by the data layer's real inspection. */
export async function entryFor(buf: Buffer, p: string, group: string, split?: Split): Promise<ManifestEntry> {
  const ins = await inspectImage(buf);
  return {
    path: p, group, label: group === 'cat' ? 1 : 0, source: 'test', sha256: crypto.createHash('sha256').update(buf).digest('hex'),
    bytes: buf.length, format: ins.format, width: ins.width, height: ins.height, phash: ins.phash,
    status: ins.reason ? 'rejected' : 'ok', reason: ins.reason, split,
  };
}

export interface Built {
  entries: ManifestEntry[];
  files: Map<string, Buffer>;
}

/** Build images from specs (named `<group>/<i>.png`) into entries and an in-memory file store. */
export async function build(specs: Spec[]): Promise<Built> {
  const files = new Map<string, Buffer>();
  const entries: ManifestEntry[] = [];
  for (const [i, s] of specs.entries()) {
    const buf = await makeImage(s);
    const p = `${s.group}/${i}-${s.seed}.png`;
    files.set(p, buf);
    entries.push(await entryFor(buf, p, s.group, s.split));
  }
  return { entries, files };
}

export async function addFile(b: Built, p: string, buf: Buffer, group: string, split?: Split): Promise<ManifestEntry> {
  b.files.set(p, buf);
  const e = await entryFor(buf, p, group, split);
  b.entries.push(e);
  return e;
}

/** A clean, balanced, split set: per group `perGroup` images, split 50/25/25. */
export function cleanSpecs(perGroup = 24, seed = 'clean'): Spec[] {
  const specs: Spec[] = [];
  for (const group of GROUPS) {
    for (let i = 0; i < perGroup; i++) {
      const split: Split = i % 4 === 0 ? 'val' : i % 4 === 1 ? 'test' : 'train';
      specs.push({ group, split, seed: `${seed}-${group}-${i}` });
    }
  }
  return specs;
}

/** Prepared splits the way the data layer builds them (centre crop + resize to size). */
export async function prepare(b: Built, size = 32): Promise<{ train: PreparedSplit; val: PreparedSplit; test: PreparedSplit }> {
  const out = {} as Record<Split, PreparedSplit>;
  for (const split of ['train', 'val', 'test'] as const) {
    const rows = b.entries.filter((e) => e.status === 'ok' && e.split === split);
    const pixels = new Uint8Array(rows.length * size * size * 3);
    for (const [i, e] of rows.entries()) pixels.set(await prepareImage(b.files.get(e.path)!, size), i * size * size * 3);
    out[split] = { size, n: rows.length, pixels, labels: Uint8Array.from(rows.map((r) => r.label)), groups: rows.map((r) => r.group), paths: rows.map((r) => r.path) };
  }
  return out;
}

export function tempHome(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'areyouacat-validation-'));
  process.env.AREYOUACAT_HOME = dir;
  return dir;
}

export async function run(b: Built, config?: ValidationConfigInput, prepared?: Awaited<ReturnType<typeof prepare>>) {
  return validateDataset({
    dataset: 'test-set',
    entries: b.entries,
    readImage: async (e) => {
      const buf = b.files.get(e.path);
      if (!buf) throw new Error(`no file ${e.path}`);
      return buf;
    },
    prepared,
    config,
  });
}

export function check(report: Awaited<ReturnType<typeof run>>, id: string) {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
}
