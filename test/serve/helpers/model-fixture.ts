import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../../../src/model/cnn.js';
import { selectBackend } from '../../../src/model/backend.js';
import { paths } from '../../../src/storage/paths.js';
import { writeJsonAtomic } from '../../../src/storage/atomic.js';
import type { ModelCard, PromotedPointer } from '../../../src/registry/types.js';

/** Save a layers model as model.json + one weight file into `dir`. */
export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsFile = 'weights.bin';
      const data = artifacts.weightData as ArrayBuffer;
      await fs.writeFile(path.join(dir, weightsFile), Buffer.from(data));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
      };
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return ['model.json', 'weights.bin'];
}

/** Build an untrained CNN with the model API and put it into the registry as version `version`. */
export async function registerTestModel(version: number, options: { imageSize?: number; threshold?: number; seed?: number } = {}) {
  await selectBackend({ prefer: 'wasm' });
  const imageSize = options.imageSize ?? 32;
  const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize, filters: [4, 8, 8], denseUnits: 8 }, options.seed ?? version);
  const rel = `versions/v${version}`;
  const dir = path.join(paths.registry(), rel);
  const files = await saveModelToDir(model, dir);
  model.dispose();
  const card: ModelCard = {
    schema: 1,
    version,
    runId: null,
    dataset: { name: 'test', manifestHash: 'test' },
    metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
    threshold: options.threshold ?? 0.5,
    thresholdStrategy: 'fixed',
    imageSize,
    createdAt: new Date().toISOString(),
    files,
  };
  await writeJsonAtomic(path.join(dir, 'card.json'), card);
  return { version, dir, rel, card };
}

/** Point the registry's promoted pointer at a registered version (atomically, as the registry does). */
export async function promoteTestModel(v: { version: number; rel: string; card: ModelCard }): Promise<void> {
  const pointer: PromotedPointer = {
    schema: 1,
    version: v.version,
    dir: v.rel,
    card: v.card,
    promotedAt: new Date().toISOString(),
    decisionId: `test-${v.version}`,
  };
  await writeJsonAtomic(path.join(paths.registry(), 'promoted.json'), pointer);
}
