import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import seedrandom from 'seedrandom';
import { ingestDataset, loadDatasetManifest } from '../../src/data/ingest.js';
import { evaluate, headlineMetrics } from '../../src/evaluation/index.js';
import { startRun } from '../../src/tracking/runs.js';
import { saveValidationReport, validateDataset } from '../../src/validation/index.js';
import { REFERENCE_HYPERPARAMETERS, predictProbabilities, saveModel, trainModel } from '../../src/model/index.js';
import { promote, registerFromRun, rollback } from '../../src/registry/index.js';
import type { CnnHyperparameters } from '../../src/model/cnn.js';

/**
 * A data directory with everything the report site shows, made through the library: a generated photo folder
 * ingested and validated, a small CNN trained on it and evaluated, tracked runs (one training run and a tuning
 * study with trials) and a registry with a promoted version. Cats are orange and striped; the other groups are
 * not, so a tiny model separates them after a few epochs.
 */

const GROUPS = ['cat', 'dog', 'selfie', 'misc'] as const;

/** A generated photo of a group: RGB bytes of width x height. */
export function drawPhoto(group: string, width: number, height: number, rng: () => number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  const jitter = () => (rng() - 0.5) * 30;
  const base: Record<string, [number, number, number]> = {
    cat: [225, 130, 40], dog: [110, 85, 60], selfie: [220, 185, 160], misc: [60, 140, 90],
  };
  const bg: [number, number, number] = [90 + jitter(), 110 + jitter(), 150 + jitter()];
  const [r, g, b] = base[group] ?? base.misc;
  const col: [number, number, number] = [r + jitter(), g + jitter(), b + jitter()];
  const cx = width * (0.4 + rng() * 0.2), cy = height * (0.4 + rng() * 0.2);
  const rad = Math.min(width, height) * (0.3 + rng() * 0.15);
  const stripe = 4 + rng() * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < rad * rad;
      let c = inside ? col : bg;
      if (inside && group === 'cat' && Math.floor((x + y) / stripe) % 2 === 0) c = [c[0] * 0.45, c[1] * 0.45, c[2] * 0.45];
      const i = (y * width + x) * 3;
      const noise = (rng() - 0.5) * 16;
      px[i] = Math.max(0, Math.min(255, c[0] + noise));
      px[i + 1] = Math.max(0, Math.min(255, c[1] + noise));
      px[i + 2] = Math.max(0, Math.min(255, c[2] + noise));
    }
  }
  return px;
}

export async function writePhoto(file: string, group: string, width: number, height: number, rng: () => number): Promise<void> {
  const raw = drawPhoto(group, width, height, rng);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toFile(file);
}



export interface SiteFixture {
  home: string;
  photos: string;
  catPhoto: string;
  otherPhoto: string;
  trainingRunId: string;
  studyRunId: string;
}

export async function buildSiteFixture(home: string): Promise<SiteFixture> {
  process.env.AREYOUACAT_HOME = home;
  const rng = seedrandom('site-fixture');
  const photos = path.join(home, 'photos');
  for (const group of GROUPS) {
    for (let i = 0; i < 40; i++) {
      const w = 48 + Math.floor(rng() * 40), h = 48 + Math.floor(rng() * 40);
      await writePhoto(path.join(photos, group, `${group}-${i}.jpg`), group, w, h, rng);
    }
  }
  // A few photos filed under the wrong group: label-error candidates and mistakes for the error gallery.
  for (let i = 0; i < 6; i++) {
    await writePhoto(path.join(photos, 'dog', `odd-${i}.jpg`), 'cat', 64, 64, rng);
    await writePhoto(path.join(photos, 'cat', `odd-${i}.jpg`), 'misc', 64, 64, rng);
  }
  const size = 24;
  const { prepared } = await ingestDataset({ spec: photos, name: 'fixture', size, seed: 1 });

  // Validation report of the data set, through the real checks.
  const entries = await loadDatasetManifest('fixture');
  const report = await validateDataset({
    dataset: 'fixture', entries, prepared,
    readImage: (e) => fs.readFile(path.join(photos, e.path)),
  });
  await saveValidationReport(report);

  // Training run: the project's CNN trainer on the prepared splits, a small network for speed.
  const hp: CnnHyperparameters = { ...REFERENCE_HYPERPARAMETERS, imageSize: size, convBlocks: 2, filters: [8, 16], denseUnits: 16, learningRate: 0.005, batchSize: 16 };
  const run = await startRun({ name: 'fixture training', params: { imageSize: size, convBlocks: 2, filters: [8, 16], denseUnits: 16, learningRate: 0.005, batchSize: 16, epochs: 8 }, dataset: { name: 'fixture', manifestHash: prepared.key } });
  const { model, backend } = await trainModel(hp, prepared.train, prepared.val, {
    epochs: 8, seed: 1,
    callbacks: { onEpochEnd: async (epoch, logs) => { await run.logEpoch(epoch + 1, { ...logs }); } },
  });
  await run.setBackend(backend);
  const ev = await evaluate({
    val: { labels: prepared.val.labels, probs: await predictProbabilities(model, prepared.val), groups: prepared.val.groups, paths: prepared.val.paths },
    test: { labels: prepared.test.labels, probs: await predictProbabilities(model, prepared.test), groups: prepared.test.groups, paths: prepared.test.paths },
    thumbnail: async (p) => {
      const jpeg = await sharp(path.join(photos, p)).resize(64, 64, { fit: 'cover' }).jpeg().toBuffer();
      return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
    },
  });
  await run.writeArtifact('evaluation.json', ev);
  const modelDir = path.join(home, 'tmp-model');
  await saveModel(model, modelDir);
  await run.copyArtifact('model', modelDir);
  const headline = headlineMetrics(ev);
  await run.finish(Object.fromEntries(Object.entries(headline).map(([k, v]) => [`test_${k}`, v])));

  // Registry: the run's model registered twice (v1, v2), promoted, then a rollback to v1.
  await registerFromRun(run.id);
  await registerFromRun(run.id);
  // Forced when the gate says no (the fixture's noisy labels can cost precision): both paths record a decision.
  await promote(1, { user: 'fixture', force: true, reason: 'fixture: first model' });
  await promote(2, { user: 'fixture', force: true, reason: 'fixture: second model' });
  await rollback(1, { reason: 'fixture: v2 misbehaved in production', user: 'fixture' });

  // A tuning study with three trials.
  const study = await startRun({ name: 'fixture study', params: { metric: 'val_f1', trials: 3 } });
  for (const [i, lr] of [0.001, 0.01, 0.1].entries()) {
    const trial = await startRun({ name: `trial ${i + 1}`, parentId: study.id, params: { learningRate: lr, filters: 4 + 4 * i } });
    await trial.finish({ val_f1: 0.5 + 0.1 * i, val_loss: 0.7 - 0.1 * i });
  }
  await study.finish({ best_val_f1: 0.7 });

  // Photos for the predict page, not part of the data set.
  const catPhoto = path.join(home, 'probe', 'cat.jpg');
  const otherPhoto = path.join(home, 'probe', 'other.jpg');
  await writePhoto(catPhoto, 'cat', 160, 120, rng);
  await writePhoto(otherPhoto, 'misc', 120, 160, rng);
  return { home, photos, catPhoto, otherPhoto, trainingRunId: run.id, studyRunId: study.id };
}
