import type * as tf from '../tfjs/index.js';
import { selectBackend } from '../model/backend.js';
import { loadModel } from '../model/io.js';
import { getVersion, readPromoted } from '../registry/registry.js';
import type { PromotedModel } from '../registry/types.js';

export interface RegisteredModel extends PromotedModel {
  model: tf.LayersModel;
}

/** A registry version's entry (default: the promoted one), without loading the model. */
export async function findRegisteredVersion(version?: number | string): Promise<PromotedModel> {
  const entry = version === undefined ? await readPromoted() : await getVersion(version);
  if (!entry) throw new Error('no model is promoted yet: run `areyouacat pipeline deploy` first, or pass --model VERSION');
  return entry;
}

/** Load a registry version (default: the promoted one) with its card, ready to predict. */
export async function loadRegisteredModel(version?: number | string): Promise<RegisteredModel> {
  const entry = await findRegisteredVersion(version);
  await selectBackend();
  return { ...entry, model: await loadModel(entry.dir) };
}
