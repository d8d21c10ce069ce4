import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../model/backend.js';
import type { PromotedModel } from '../registry/types.js';
import { predictProbabilities } from '../model/predict.js';
import { MicroBatcher } from './micro-batcher.js';
import type { ServingModel } from './model-holder.js';

/** A tfjs IOHandler that reads a saved layers model (model.json + weight shards) from a folder. */
export function folderModelHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const p of group.paths) {
          const file = path.resolve(dir, p);
          if (path.relative(dir, file).startsWith('..')) throw new Error(`weight file ${p} is outside the model folder`);
          buffers.push(await fs.readFile(file));
        }
        specs.push(...group.weights);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

export interface TfjsServingOptions {
  maxBatch?: number;
}

/**
 * Load a promoted model for serving: tfjs layers model from the version folder, on the fastest backend available,
 * with concurrent requests batched into one forward pass of the model API's `predictProbabilities`. One warm-up pass runs before the model is handed out, so the first request is not slow.
 */
export async function loadTfjsServingModel(promoted: PromotedModel, options: TfjsServingOptions = {}): Promise<ServingModel> {
  await selectBackend({ prefer: process.env.AREYOUACAT_BACKEND as 'wasm' | 'cpu' | 'tensorflow' | undefined });
  const model = await tf.loadLayersModel(folderModelHandler(promoted.dir));
  const size = promoted.card.imageSize;
  const inputShape = model.inputs[0]?.shape;
  if (inputShape && (inputShape[1] !== size || inputShape[2] !== size || inputShape[3] !== 3)) {
    model.dispose();
    throw new Error(`model v${promoted.version} expects input ${JSON.stringify(inputShape)}, its card says ${size}x${size}x3`);
  }
  const pixelsPerImage = size * size * 3;
  // The evaluation's batched prediction, so serving scales inputs exactly as evaluation did.
  const runBatch = async (items: Uint8Array[]): Promise<number[]> => {
    const pixels = new Uint8Array(items.length * pixelsPerImage);
    items.forEach((px, i) => pixels.set(px, i * pixelsPerImage));
    return Array.from(await predictProbabilities(model, { n: items.length, size, pixels }, items.length));
  };
  await runBatch([new Uint8Array(pixelsPerImage)]);
  const batcher = new MicroBatcher(runBatch, options.maxBatch ?? 32);
  return {
    version: promoted.version,
    threshold: promoted.card.threshold,
    imageSize: size,
    card: promoted.card,
    predict: (pixels) => batcher.submit(pixels),
    dispose: () => model.dispose(),
  };
}
