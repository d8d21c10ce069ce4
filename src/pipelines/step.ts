import path from 'node:path';
import { exists, readJson, writeJsonAtomic } from '../storage/atomic.js';
import { paths } from '../storage/paths.js';
import { stableHash } from './stable-hash.js';
import type { Log } from '../progress/index.js';

/**
 * A value a step reads that is too big or not plain data to hash (prepared pixels, an open data source): it
 * enters the step's cache key as its `id`, which must change whenever the value's content does.
 */
export class StepArtifact<T> {
  constructor(
    readonly id: string,
    readonly value: T,
  ) {}
  toJSON(): unknown {
    return { artifact: this.id };
  }
}

export function artifact<T>(id: string, value: T): StepArtifact<T> {
  return new StepArtifact(id, value);
}

/** Something a step reports to that cannot change its output (a progress callback): left out of the cache key. */
export class StepObserver<T> {
  constructor(readonly value: T) {}
  toJSON(): undefined {
    return undefined;
  }
}

export function observer<T>(value: T): StepObserver<T> {
  return new StepObserver(value);
}

export interface StepContext {
  /** Human-readable progress lines (the CLI prints them; notebooks show them). */
  log: Log;
  /** Skip the cache and run every step. */
  force?: boolean;
}

/**
 * A pipeline step: a typed async function whose JSON output is cached by the hash of its input. `run` reads only
 * its input (and logs through the context), so everything that can change the output is in the key: plain values
 * directly, big or opaque values as a `StepArtifact` id, observers as a `StepObserver` (not keyed). Define steps
 * at module level so `run` cannot close over anything else. Bump `version`
 * when the step's logic changes so old cache entries are not reused. `stillValid` lets a step reject a cached
 * output whose files have since disappeared (a deleted run, a cleared cache).
 */
export interface Step<I, O> {
  name: string;
  version: number;
  run: (input: I, ctx: StepContext) => Promise<O>;
  stillValid?: (output: O) => Promise<boolean>;
}

export function defineStep<I, O>(step: Step<I, O>): Step<I, O> {
  return step;
}

export interface StepResult<O> {
  output: O;
  cached: boolean;
  key: string;
  ms: number;
}

export function stepCacheFile(name: string, key: string): string {
  return path.join(paths.stepCache(), name, `${key}.json`);
}

/**
 * The cache key of a step's input: the stable hash of the step's name, code version and input. A bare function in
 * the input is refused: it would silently drop out of the key; wrap observers in `observer()`.
 */
export function stepKey<I>(step: Pick<Step<I, unknown>, 'name' | 'version'>, input: I): string {
  assertNoBareFunctions(input, 'input');
  return stableHash({ step: step.name, version: step.version, input });
}

function assertNoBareFunctions(value: unknown, at: string): void {
  if (typeof value === 'function') throw new Error(`step ${at} is a function: wrap it in observer() or make it part of the input`);
  if (!value || typeof value !== 'object' || value instanceof StepArtifact || value instanceof StepObserver) return;
  if (ArrayBuffer.isView(value)) return;
  for (const [k, v] of Object.entries(value)) assertNoBareFunctions(v, `${at}.${k}`);
}

/** Run a step, or return its cached output when the same input ran before. */
export async function runStep<I, O>(step: Step<I, O>, input: I, ctx: StepContext): Promise<StepResult<O>> {
  const key = stepKey(step, input);
  const file = stepCacheFile(step.name, key);
  const t0 = Date.now();
  if (!ctx.force && (await exists(file))) {
    try {
      const cached = await readJson<{ output: O }>(file);
      if (!step.stillValid || (await step.stillValid(cached.output))) {
        ctx.log(`${step.name}: cached (${key.slice(0, 12)})`);
        return { output: cached.output, cached: true, key, ms: Date.now() - t0 };
      }
    } catch (err) {
      ctx.log(`${step.name}: ignoring unreadable cache entry (${(err as Error).message})`);
    }
  }
  ctx.log(`${step.name}: running`);
  const output = await step.run(input, ctx);
  await writeJsonAtomic(file, { step: step.name, version: step.version, createdAt: new Date().toISOString(), output });
  const ms = Date.now() - t0;
  ctx.log(`${step.name}: done in ${(ms / 1000).toFixed(1)} s`);
  return { output, cached: false, key, ms };
}
