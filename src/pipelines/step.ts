import path from 'node:path';
import { exists, readJson, writeJsonAtomic } from '../storage/atomic.js';
import { paths } from '../storage/paths.js';
import { stableHash } from './stable-hash.js';
import type { Log } from '../progress/index.js';

export interface StepContext {
  /** Human-readable progress lines (the CLI prints them; notebooks show them). */
  log: Log;
  /** Skip the cache and run every step. */
  force?: boolean;
}

/**
 * A pipeline step: a typed async function whose JSON output is cached by the hash of its inputs. Bump `version`
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

/** Run a step, or return its cached output when the same inputs ran before. */
export async function runStep<I, O>(step: Step<I, O>, input: I, ctx: StepContext): Promise<StepResult<O>> {
  const key = stableHash({ step: step.name, version: step.version, input });
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
