import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/io.js';
import { photoFeatureViews, photoWholeView, viewFeatures } from '../../src/model/photo-features.js';
import { predictPhotoViews } from '../../src/model/predict.js';
import { IMAGENET_MOBILENET_V1 } from '../../src/model-files/index.js';
import { readPromoted } from '../../src/registry/registry.js';
import { HOME_AND_S3_ENV, saveEnv } from '../helpers/env.js';
import { catsV1Dir } from '../model/fixtures.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';

/**
 * Issue 25: where onnxruntime-node cannot load, the project says so once and computes ImageNet features on
 * tfjs-wasm. Simulated honestly: a child process whose every process and thread has test/helpers/no-onnxruntime.cjs
 * preloaded, so that the package's native binding is not found, as on a platform it ships no binaries for.
 */
const MIRROR = path.resolve(process.env.AREYOUACAT_MODEL_MIRROR ?? '../shared/models');
const haveModel = await fs.access(path.join(MIRROR, IMAGENET_MOBILENET_V1.folder, 'model.json')).then(() => true, () => false);
const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveModel || !haveCats) console.warn(`onnxruntime-node fallback test skipped: needs ${MIRROR} and cats-v1 at ${catsV1Dir()}`);

const ID = IMAGENET_MOBILENET_V1.id;
const SIZE = 128;
const MAX_PIXELS = 12_000_000;
const PRELOAD = path.resolve('test/helpers/no-onnxruntime.cjs');

interface ChildResult {
  reason: string | null;
  engines: string[];
  features: number[];
  served: number[];
  feedbackFeatures: number[][][];
  inferred: Array<{ path: string; probability: number | null }>;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe.skipIf(!haveModel || !haveCats)('when onnxruntime-node cannot load on a platform', () => {
  let tmp: string;
  const restoreEnv = saveEnv([...HOME_AND_S3_ENV, 'AREYOUACAT_ENGINE']);
  const photos: string[] = [];

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-no-ort-'));
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home');
    await promoteTestModel(await registerTestModel({ tmp, imageSize: SIZE, backbone: ID, seed: 5 }));
    // Two cats and two dogs (photos of several shapes), in the <group>/<file> layout batch inference reads.
    for (const group of ['cat', 'dog']) {
      await fs.mkdir(path.join(tmp, 'photos', group), { recursive: true });
      for (const f of (await fs.readdir(path.join(catsV1Dir(), group))).sort().slice(0, 2)) {
        await fs.copyFile(path.join(catsV1Dir(), group, f), path.join(tmp, 'photos', group, f));
        photos.push(`${group}/${f}`);
      }
    }
  }, 300_000);

  afterAll(async () => {
    restoreEnv();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('says so once, in a process whose threads and pool processes all compute ImageNet features, and gives the tfjs-wasm results', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require=${JSON.stringify(PRELOAD)}`.trim() };
    delete env.AREYOUACAT_ENGINE;
    const args = { folder: path.join(tmp, 'photos'), photos, out: path.join(tmp, 'inferred.json') };
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/onnx/no-onnxruntime-main.ts', JSON.stringify(args)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve)).finally(() => child.kill());
    expect(code, stderr).toBe(0);

    // Said once, by the process that started the threads and the pool, with the reason.
    expect((stderr.match(/AREYOUACAT_NO_ONNXRUNTIME/g) ?? []).length, stderr).toBe(1);
    expect(stderr).toMatch(/onnxruntime-node cannot be loaded on \w+-\w+: Cannot find module '[^']*onnxruntime_binding\.node'; backbone features run on tfjs-wasm instead/);
    const got = JSON.parse(stdout) as ChildResult;
    expect(got.reason).toMatch(/^onnxruntime-node cannot be loaded on /);
    expect(got.engines).toEqual(['tfjs-wasm', 'tfjs-wasm']);

    // The same numbers as tfjs-wasm gives in this process (AREYOUACAT_ENGINE=tfjs).
    process.env.AREYOUACAT_ENGINE = 'tfjs';
    const bytes = await Promise.all(photos.map((p) => fs.readFile(path.join(args.folder, p))));
    const views = await Promise.all(bytes.map((b) => photoWholeView(b, SIZE)));
    expect(new Set(views.map((v) => `${v.width}x${v.height}`)).size).toBeGreaterThan(1);
    expect(maxAbsDiff(got.features, await viewFeatures(ID, views, false, 4))).toBeLessThan(1e-4);
    const model = await loadModel((await readPromoted())!.dir);
    const want = await predictPhotoViews(model, views);
    model.dispose();
    expect(maxAbsDiff(got.served, want)).toBeLessThan(1e-5);
    for (const [i, b] of bytes.entries()) {
      const here = await photoFeatureViews(b, { backbone: ID, imageSize: SIZE, maxPixels: MAX_PIXELS });
      expect(maxAbsDiff(got.feedbackFeatures[i].flat(), here.views.flatMap((v) => Array.from(v)))).toBeLessThan(1e-4);
    }
    const byPath = new Map(got.inferred.map((r) => [r.path, r.probability]));
    expect(maxAbsDiff(photos.map((p) => byPath.get(p) ?? NaN), want)).toBeLessThan(1e-5);
  }, 600_000);
});
