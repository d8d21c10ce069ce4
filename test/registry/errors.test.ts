import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyPromotedError, RegistryError, isAlreadyPromoted, promote, readDecisions, registerModel } from '../../src/registry/index.js';
import { card, fakeModelDir } from './fixtures/fake-model.js';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-registry-errors-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('registry errors', () => {
  it('promoting the promoted version is an AlreadyPromotedError with its kind and version, and records nothing', async () => {
    const root = path.join(tmp, 'registry');
    const c = card(0, {});
    await registerModel({ root, modelDir: await fakeModelDir(path.join(tmp, 'src'), 1), runId: null, dataset: c.dataset, metrics: c.metrics, threshold: 0.5, thresholdStrategy: 'maximize-f1', imageSize: 64 });
    await promote(1, { root });
    const err = await promote('v1', { root }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AlreadyPromotedError);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ kind: 'already-promoted', version: 1, name: 'AlreadyPromotedError' });
    expect(isAlreadyPromoted(err)).toBe(true);
    expect(isAlreadyPromoted(new Error('v1 is already the promoted model'))).toBe(false);
    expect((await readDecisions({ root })).length).toBe(1);
  });
});
