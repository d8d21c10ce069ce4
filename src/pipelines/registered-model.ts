import type * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../model/backend.js';
import { loadModel } from '../model/io.js';
import { getVersion, readPromoted } from '../registry/registry.js';
import type { PromotedModel } from '../registry/types.js';

export interface RegisteredModel extends PromotedModel {
  model: tf.LayersModel;
}

/** Load a registry version (default: the promoted one) with its card, ready to predict. */
export async function loadRegisteredModel(version?: number | string): Promise<RegisteredModel> {
  const entry = version === undefined ? await readPromoted() : await getVersion(version);
  if (!entry) throw new Error('no model is promoted yet: run `areyouacat pipeline deploy` first, or pass --model VERSION');
  await selectBackend();
  return { ...entry, model: await loadModel(entry.dir) };
}
