import seedrandom from 'seedrandom';
import { apportion, normaliseMix, shuffled } from '../mix.js';
import {
  checkSizes, DEFAULT_MAX_SIZE, DEFAULT_MIN_SIZE, ImageShape, pickImageShape, renderSynthetic, SYNTHETIC_GROUPS,
} from '../synthetic/render.js';
import { checkDifficulty, DEFAULT_DIFFICULTY, type SyntheticDifficulty } from '../synthetic/difficulty.js';
import { DEFAULT_MIX, type DataSource, type SourceItem } from '../types.js';

export interface SyntheticSourceOptions {
  /** Same seed, same images, byte for byte. Default 1. */
  seed?: number;
  /** Number of images. Default 800. */
  n?: number;
  /** Group weights over cat, dog, selfie, misc (normalised). Default 25% each. */
  mix?: Record<string, number>;
  /** Bounds for image width and height in pixels. Defaults 96 and 160. */
  minSize?: number;
  maxSize?: number;
  /** How hard the scenes are to read: 'easy' (default, learnable by a small CNN in minutes) or 'hard'. */
  difficulty?: SyntheticDifficulty;
}

interface Planned {
  item: SourceItem;
  shape: ImageShape;
}

/**
 * The built-in synthetic data set: cats, dogs, faces and everyday scenes drawn from a seed, so the whole project
 * runs without downloading anything. Group counts follow the mix exactly (largest remainder); which index gets
 * which group is a seeded shuffle. Each image's size and format come from its own generator that never sees the
 * group, and its content from another, so `read()` renders any item alone, identically every time.
 */
export class SyntheticSource implements DataSource {
  readonly id: string;
  readonly seed: number;
  readonly n: number;
  readonly mix: Record<string, number>;
  readonly minSize: number;
  readonly maxSize: number;
  readonly difficulty: SyntheticDifficulty;
  private plan?: Map<string, Planned>;

  constructor(opts: SyntheticSourceOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.n = opts.n ?? 800;
    this.minSize = opts.minSize ?? DEFAULT_MIN_SIZE;
    this.maxSize = opts.maxSize ?? DEFAULT_MAX_SIZE;
    if (!Number.isSafeInteger(this.seed)) throw new Error(`synthetic seed must be an integer; got ${opts.seed}`);
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > 1_000_000) {
      throw new Error(`synthetic n must be a whole number from 1 to 1000000; got ${opts.n}`);
    }
    checkSizes(this.minSize, this.maxSize);
    this.difficulty = checkDifficulty(opts.difficulty ?? DEFAULT_DIFFICULTY);
    this.mix = normaliseMix(opts.mix ?? DEFAULT_MIX);
    const unknown = Object.keys(this.mix).filter((g) => !(SYNTHETIC_GROUPS as readonly string[]).includes(g));
    if (unknown.length) {
      throw new Error(`the synthetic set draws only the groups ${SYNTHETIC_GROUPS.join(', ')}; the mix asks for ${unknown.join(', ')}`);
    }
    this.id = syntheticId({
      seed: this.seed, n: this.n, mix: opts.mix, minSize: this.minSize, maxSize: this.maxSize, difficulty: this.difficulty,
    });
  }

  private planned(): Map<string, Planned> {
    if (this.plan) return this.plan;
    const counts = apportion(this.n, this.mix);
    const groups: string[] = [];
    for (const g of Object.keys(counts)) for (let i = 0; i < counts[g]; i++) groups.push(g);
    const order = shuffled(groups, `synthetic:${this.seed}:groups`);
    const plan = new Map<string, Planned>();
    order.forEach((group, index) => {
      const shape = pickImageShape(seedrandom(`synthetic:${this.seed}:${index}:shape`), this.minSize, this.maxSize);
      const ext = shape.format === 'png' ? 'png' : 'jpg';
      const item: SourceItem = { path: `${group}/synth-${this.seed}-${index}.${ext}`, group, source: 'synthetic' };
      plan.set(item.path, { item, shape });
    });
    this.plan = plan;
    return plan;
  }

  async list(): Promise<SourceItem[]> {
    return [...this.planned().values()].map((p) => ({ ...p.item }));
  }

  async read(item: SourceItem): Promise<Buffer> {
    const planned = this.planned().get(item.path);
    if (!planned) throw new Error(`${this.id} has no item '${item.path}'`);
    const index = Number(/-(\d+)\.\w+$/.exec(item.path)![1]);
    return renderSynthetic(planned.item.group, seedrandom(`synthetic:${this.seed}:${index}`), {
      ...planned.shape, difficulty: this.difficulty,
    });
  }
}

/** `synthetic:seed=7,n=400` (only the options that differ from the defaults after seed and n). */
function syntheticId(o: Required<Omit<SyntheticSourceOptions, 'mix'>> & { mix?: Record<string, number> }): string {
  const parts = [`seed=${o.seed}`, `n=${o.n}`];
  if (o.minSize !== DEFAULT_MIN_SIZE) parts.push(`minSize=${o.minSize}`);
  if (o.maxSize !== DEFAULT_MAX_SIZE) parts.push(`maxSize=${o.maxSize}`);
  if (o.difficulty !== DEFAULT_DIFFICULTY) parts.push(`difficulty=${o.difficulty}`);
  if (o.mix) {
    const m = normaliseMix(o.mix);
    const isDefault = Object.keys(DEFAULT_MIX).length === Object.keys(m).length
      && Object.entries(DEFAULT_MIX).every(([g, w]) => Math.abs((m[g] ?? -1) - w) < 1e-9);
    if (!isDefault) for (const g of Object.keys(m)) parts.push(`${g}=${Math.round(m[g] * 1e6) / 1e6}`);
  }
  return `synthetic:${parts.join(',')}`;
}

/**
 * Parse `synthetic`, `synthetic:seed=7,n=400`, `synthetic:difficulty=hard` or
 * `synthetic:n=200,cat=0.5,dog=0.5,minSize=64,maxSize=128`. Group names as keys set the mix (only the groups named,
 * normalised). Unknown keys are an error.
 */
export function parseSyntheticSpec(spec: string): SyntheticSourceOptions {
  const s = spec.trim();
  if (s !== 'synthetic' && !s.startsWith('synthetic:')) throw new Error(`not a synthetic source spec: '${spec}'`);
  const opts: SyntheticSourceOptions = {};
  const mix: Record<string, number> = {};
  const body = s.slice('synthetic'.length + 1);
  for (const part of body.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    const text = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (key === 'difficulty') {
      opts.difficulty = checkDifficulty(text);
      continue;
    }
    const value = Number(text);
    if (!key || !text || !Number.isFinite(value)) {
      throw new Error(`bad synthetic option '${part}' in '${spec}': expected key=number`);
    }
    if (key === 'seed' || key === 'n' || key === 'minSize' || key === 'maxSize') opts[key] = value;
    else if ((SYNTHETIC_GROUPS as readonly string[]).includes(key)) mix[key] = value;
    else {
      throw new Error(`unknown synthetic option '${key}' in '${spec}': use seed, n, minSize, maxSize, difficulty or group weights (${SYNTHETIC_GROUPS.join(', ')})`);
    }
  }
  if (Object.keys(mix).length) opts.mix = mix;
  return opts;
}

/** A SyntheticSource from a spec string (see parseSyntheticSpec). */
export function openSyntheticSource(spec: string): SyntheticSource {
  return new SyntheticSource(parseSyntheticSpec(spec));
}
