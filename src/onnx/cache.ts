import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '../tfjs/index.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { dataRoot } from '../storage/paths.js';

/** Part of every cache key: bump when the exporter writes a different graph for the same model and options. */
export const ONNX_EXPORTER_VERSION = 1;

/** Where exports are cached by default: `<data folder>/cache/onnx`. */
export function defaultOnnxCacheDir(): string {
  return path.join(dataRoot(), 'cache', 'onnx');
}

/** JSON with object keys sorted, so equal options always give the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'function') throw new Error('export options in a cache key must be plain data (describe a custom emitter by a name)');
  return JSON.stringify(value) ?? 'null';
}

/**
 * The cache key of an export: SHA-256 over the exporter version, the options (plain data) and every part of the
 * model's content (each part's length first, so parts cannot run into each other).
 */
export function onnxExportKey(content: readonly (Uint8Array | string)[], options: unknown): string {
  const hash = createHash('sha256').update(`areyouacat-onnx-v${ONNX_EXPORTER_VERSION}\n${stableJson(options)}\n`);
  for (const part of content) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.byteLength}:`).update(bytes);
  }
  return hash.digest('hex');
}

/** A LayersModel's content as saved (topology JSON and weight bytes): what its exports' cache keys hash. */
export async function layersModelContent(model: tf.LayersModel): Promise<Uint8Array[]> {
  let parts: Uint8Array[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData;
      const buffers = weights === undefined ? [] : Array.isArray(weights) ? weights : [weights];
      parts = [
        Buffer.from(JSON.stringify({ topology: artifacts.modelTopology, specs: artifacts.weightSpecs }), 'utf8'),
        ...buffers.map((b) => new Uint8Array(b)),
      ];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return parts;
}

export interface CachedOnnxExport {
  path: string;
  bytes: Uint8Array;
  /** True when the file was already there. */
  cached: boolean;
}

/**
 * The export of a model with given options, from the cache (`<dir>/<key>.onnx`, key from content and options) or
 * made by `exportModel` and written atomically, so concurrent processes never read half a file.
 */
export async function cachedOnnxExport(
  source: { content: readonly (Uint8Array | string)[]; options: unknown; dir?: string },
  exportModel: () => Uint8Array | Promise<Uint8Array>,
): Promise<CachedOnnxExport> {
  const file = path.join(source.dir ?? defaultOnnxCacheDir(), `${onnxExportKey(source.content, source.options)}.onnx`);
  try {
    return { path: file, bytes: new Uint8Array(await fs.readFile(file)), cached: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const bytes = await exportModel();
  await writeFileAtomic(file, bytes);
  return { path: file, bytes, cached: false };
}
