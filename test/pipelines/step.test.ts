import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { defineStep, runStep, stepCacheFile } from '../../src/pipelines/step.js';
import { stableHash } from '../../src/pipelines/stable-hash.js';

describe('pipeline steps', () => {
  beforeEach(async () => {
    process.env.AREYOUACAT_HOME = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-step-'));
  });
  const ctx = { log: () => {} };

  it('hashes inputs independent of key order', () => {
    expect(stableHash({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(stableHash({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });

  it('caches by input and reruns when inputs, version or validity change', async () => {
    let calls = 0;
    const step = defineStep({ name: 'double', version: 1, run: async (x: { n: number }) => ({ y: x.n * 2, call: ++calls }) });
    const first = await runStep(step, { n: 2 }, ctx);
    const second = await runStep(step, { n: 2 }, ctx);
    expect(first).toMatchObject({ cached: false, output: { y: 4, call: 1 } });
    expect(second).toMatchObject({ cached: true, output: { y: 4, call: 1 } });
    expect((await runStep(step, { n: 3 }, ctx)).cached).toBe(false);
    expect((await runStep({ ...step, version: 2 }, { n: 2 }, ctx)).cached).toBe(false);
    expect((await runStep({ ...step, stillValid: async () => false }, { n: 2 }, ctx)).cached).toBe(false);
    expect((await runStep(step, { n: 2 }, { ...ctx, force: true })).cached).toBe(false);
  });

  it('treats a damaged cache entry as a miss', async () => {
    const step = defineStep({ name: 'id', version: 1, run: async (x: number) => x });
    const r = await runStep(step, 5, ctx);
    await fs.writeFile(stepCacheFile('id', r.key), '{"outp');
    expect(await runStep(step, 5, ctx)).toMatchObject({ cached: false, output: 5 });
  });

  it('does not cache a failing step', async () => {
    let fail = true;
    const step = defineStep({ name: 'flaky', version: 1, run: async () => { if (fail) throw new Error('boom'); return 1; } });
    await expect(runStep(step, {}, ctx)).rejects.toThrow('boom');
    fail = false;
    expect(await runStep(step, {}, ctx)).toMatchObject({ cached: false, output: 1 });
  });
});
