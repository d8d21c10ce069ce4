import seedrandom from 'seedrandom';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/** One dimension of a search space. */
export type ParamSpec =
  | { type: 'choice'; values: ParamValue[] }
  | { type: 'uniform'; min: number; max: number }
  | { type: 'loguniform'; min: number; max: number }
  | { type: 'int'; min: number; max: number; step?: number };

export type SearchSpace = Record<string, ParamSpec>;

/** Throw a clear error for a space that cannot be sampled. */
export function validateSpace(space: SearchSpace): void {
  const names = Object.keys(space);
  if (names.length === 0) throw new Error('search space is empty');
  for (const name of names) {
    const spec = space[name];
    const where = `search space parameter "${name}"`;
    switch (spec.type) {
      case 'choice':
        if (!Array.isArray(spec.values) || spec.values.length === 0) throw new Error(`${where}: choice needs values`);
        break;
      case 'uniform':
      case 'int':
        if (!(Number.isFinite(spec.min) && Number.isFinite(spec.max) && spec.min <= spec.max))
          throw new Error(`${where}: needs finite min <= max`);
        if (spec.type === 'int' && spec.step !== undefined && !(spec.step >= 1)) throw new Error(`${where}: step must be >= 1`);
        break;
      case 'loguniform':
        if (!(spec.min > 0 && spec.max >= spec.min)) throw new Error(`${where}: loguniform needs 0 < min <= max`);
        break;
      default:
        throw new Error(`${where}: unknown type ${(spec as { type: string }).type}`);
    }
  }
}

function sampleOne(spec: ParamSpec, rng: () => number): ParamValue {
  switch (spec.type) {
    case 'choice':
      return spec.values[Math.floor(rng() * spec.values.length)];
    case 'uniform':
      return spec.min + rng() * (spec.max - spec.min);
    case 'loguniform':
      return Math.exp(Math.log(spec.min) + rng() * (Math.log(spec.max) - Math.log(spec.min)));
    case 'int': {
      const step = spec.step ?? 1;
      const count = Math.floor((spec.max - spec.min) / step) + 1;
      return spec.min + step * Math.floor(rng() * count);
    }
  }
}

/** Sample `n` parameter sets. Same space and seed, same trials (parameters are visited in sorted name order). */
export function sampleTrials(space: SearchSpace, n: number, seed: string | number): Params[] {
  validateSpace(space);
  const rng = seedrandom(`tuning:${seed}`);
  const names = Object.keys(space).sort();
  const trials: Params[] = [];
  for (let i = 0; i < n; i++) {
    const params: Params = {};
    for (const name of names) params[name] = sampleOne(space[name], rng);
    trials.push(params);
  }
  return trials;
}

/** Parse a space from JSON text (a CLI option or a file), with errors that say what is wrong. */
export function parseSpace(json: string): SearchSpace {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`search space is not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('search space must be a JSON object');
  const space = value as SearchSpace;
  validateSpace(space);
  return space;
}
