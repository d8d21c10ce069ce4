import path from 'node:path';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../../../src/model/cnn.js';
import { selectBackend } from '../../../src/model/backend.js';
import { saveModel } from '../../../src/model/io.js';
import { backboneSpec } from '../../../src/model/backbones.js';
import { promote, registerModel } from '../../../src/registry/registry.js';
import type { PromotedModel } from '../../../src/registry/types.js';

/**
 * Build an untrained CNN with the model API, save it and register it with the registry API (the next version).
 * Returns the registered version; promote it with `promoteTestModel`.
 */
export async function registerTestModel(options: {
  imageSize?: number;
  threshold?: number;
  seed?: number;
  tmp: string;
  dataset?: string;
  runId?: string;
  /** 'coco-centernet': the pretrained-backbone classifier (untrained head; imageSize a multiple of 32, 64-1024). */
  backbone?: string;
}): Promise<PromotedModel> {
  await selectBackend({ prefer: 'wasm' });
  const imageSize = options.imageSize ?? 32;
  if (options.backbone) await backboneSpec(options.backbone).load(imageSize, imageSize);
  const model = buildCnn(
    { ...REFERENCE_HYPERPARAMETERS, imageSize, filters: [4, 8, 8], denseUnits: 8, backbone: options.backbone ?? null },
    options.seed ?? 1,
  );
  const modelDir = path.join(options.tmp, `model-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await saveModel(model, modelDir);
  model.dispose();
  return registerModel({
    modelDir,
    runId: options.runId ?? null,
    dataset: { name: options.dataset ?? 'test', manifestHash: 'test' },
    metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
    threshold: options.threshold ?? 0.5,
    thresholdStrategy: 'fixed',
    imageSize,
  });
}

/** Promote a registered version (forced: untrained test models do not pass the gate on merit). */
export async function promoteTestModel(v: PromotedModel): Promise<void> {
  await promote(v.version, { force: true, reason: 'test model' });
}
