import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '../tfjs/index.js';
import { loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from './io.js';

/**
 * A saved model (model.json and weights.bin, as `saveModel` writes them) as one byte string, to send it somewhere
 * that has no folder of ours: 4 bytes of model.json's length (big-endian), model.json, weights.bin.
 */
export async function modelBundle(model: tf.LayersModel, metadata?: Record<string, unknown>): Promise<Buffer> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-bundle-'));
  try {
    await saveModel(model, path.join(scratch, 'model'), metadata);
    const json = await fs.readFile(path.join(scratch, 'model', MODEL_JSON));
    const weights = await fs.readFile(path.join(scratch, 'model', WEIGHTS_BIN));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(json.byteLength);
    return Buffer.concat([head, json, weights]);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Write a bundle back as a model folder (`dir`/model.json and weights.bin). */
export async function writeModelBundle(bundle: Uint8Array, dir: string): Promise<void> {
  const buf = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const length = buf.byteLength >= 4 ? buf.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > buf.byteLength) throw new Error(`not a model bundle (${buf.byteLength} bytes)`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, MODEL_JSON), buf.subarray(4, 4 + length));
  await fs.writeFile(path.join(dir, WEIGHTS_BIN), buf.subarray(4 + length));
}

/** Load the model a bundle holds. */
export async function loadModelBundle(bundle: Uint8Array): Promise<tf.LayersModel> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-bundle-'));
  try {
    await writeModelBundle(bundle, scratch);
    return await loadModel(scratch);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
