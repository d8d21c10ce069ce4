import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '../tfjs/index.js';
import { BACKBONE_ID, BACKBONE_VIEW } from './backbone.js';
import { backboneSpec } from './backbones.js';
import { outdatedViewError, PretrainedBackbone } from './backbone-layer.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** The model.json of the TensorFlow.js layers format, as loadLayersModel reads it. */
export interface LayersModelJson {
  modelTopology: object;
  format: 'layers-model';
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: object;
  userDefinedMetadata?: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function concatWeightData(data: tf.io.WeightData): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Save a model in the TensorFlow.js layers format (model.json + weights.bin) to `dir`. The files are written to
 * a temporary sibling folder that then replaces `dir` by rename, so readers never see half a model.
 * `metadata` lands in model.json's userDefinedMetadata.
 */
export async function saveModel(model: tf.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<void> {
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const unique = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const temp = `${target}.tmp-${unique}`;
  const old = `${target}.old-${unique}`;
  await fs.mkdir(temp);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        if (!artifacts.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) {
          throw new Error('model has no topology or weights to save');
        }
        const weights = concatWeightData(artifacts.weightData);
        const json: LayersModelJson = {
          modelTopology: artifacts.modelTopology,
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
          ...(metadata ? { userDefinedMetadata: metadata } : {}),
          weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
        };
        await fs.writeFile(path.join(temp, WEIGHTS_BIN), weights);
        await fs.writeFile(path.join(temp, MODEL_JSON), JSON.stringify(json));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    let hadOld = false;
    try {
      await fs.rename(target, old);
      hadOld = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fs.rename(temp, target);
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/** Model artifacts from a model.json object and the weight files it names (as read from disk or fetched). */
export function artifactsFromFiles(json: LayersModelJson, weightFiles: Record<string, Uint8Array>): tf.io.ModelArtifacts {
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error('not a TensorFlow.js layers model.json (modelTopology or weightsManifest missing)');
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const name = path.posix.normalize(p).replace(/^\.\//, '');
      const data = weightFiles[name];
      if (!data) throw new Error(`weights file ${name} named in model.json is missing`);
      parts.push(data);
    }
  }
  const weights = concatWeightData(parts.map((p) => p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength) as ArrayBuffer));
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    trainingConfig: json.trainingConfig as tf.io.TrainingConfig | undefined,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, {}> | undefined,
    weightSpecs,
    weightData: weights.buffer as ArrayBuffer,
  };
}

/** Load a model saved by `saveModel` (or any layers-format folder) from disk; no tfjs-node needed. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, MODEL_JSON);
  let json: LayersModelJson;
  try {
    json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as LayersModelJson;
  } catch (err) {
    throw new Error(`cannot read model ${jsonPath}: ${(err as Error).message}`);
  }
  const files: Record<string, Uint8Array> = {};
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      const name = path.posix.normalize(p).replace(/^\.\//, '');
      try {
        files[name] = await fs.readFile(path.join(dir, name));
      } catch (err) {
        throw new Error(`cannot read weights ${path.join(dir, name)}: ${(err as Error).message}`);
      }
    }
  }
  for (const l of usableBackboneLayers(json)) await backboneSpec(l.backbone).load(l.imageSize, l.imageSize);
  return tf.loadLayersModel(tf.io.fromMemory(artifactsFromFiles(json, files)));
}

/** A pretrained backbone layer of a saved model: which backbone, at which input size, on which view of a photo. */
export interface SavedBackboneLayer {
  backbone: string;
  imageSize: number;
  /** The view the head was trained on (`BACKBONE_VIEW`); null for a model saved before the view was recorded (the centre square). */
  view: string | null;
}

/**
 * The pretrained backbone layers a saved model.json names, without loading anything. The layers format writes the
 * layer's config keys in snake_case (`image_size`); camelCase is read too.
 */
export function savedBackboneLayers(json: Pick<LayersModelJson, 'modelTopology'>): SavedBackboneLayer[] {
  const out: SavedBackboneLayer[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.class_name === PretrainedBackbone.className) {
        const config = (o.config ?? {}) as { backbone?: unknown; image_size?: unknown; imageSize?: unknown; view?: unknown };
        const size = config.image_size ?? config.imageSize;
        if (typeof size !== 'number') throw new Error('model.json: pretrained backbone layer without an imageSize');
        out.push({ backbone: typeof config.backbone === 'string' ? config.backbone : BACKBONE_ID, imageSize: size, view: typeof config.view === 'string' ? config.view : null });
      } else Object.values(o).forEach(visit);
    }
  };
  visit(json.modelTopology);
  return out;
}

/**
 * Input sizes of the pretrained backbones a saved model is built on (they must be loaded before it runs). A head
 * trained on another view's features is refused (`outdatedViewError`).
 */
export function backboneSizesOf(json: LayersModelJson): number[] {
  return [...new Set(usableBackboneLayers(json).map((l) => l.imageSize))];
}

/** The saved model's backbone layers, refusing a head trained on another view's features (`outdatedViewError`). */
export function usableBackboneLayers(json: LayersModelJson): SavedBackboneLayer[] {
  const layers = savedBackboneLayers(json);
  for (const l of layers) if (l.view !== BACKBONE_VIEW) throw outdatedViewError(l.view ?? undefined, l.backbone);
  return layers;
}

/** The userDefinedMetadata saved with a model, without loading its weights. */
export async function readModelMetadata(dir: string): Promise<Record<string, unknown>> {
  const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8')) as LayersModelJson;
  return json.userDefinedMetadata ?? {};
}

/**
 * Whether a saved model reads photos through a pretrained backbone (whole views of any allowed shape) rather than
 * imageSize squares, without loading its weights; a backbone model saved before the whole view is refused here.
 */
export async function savedModelReadsWholeViews(dir: string): Promise<boolean> {
  const json = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8')) as LayersModelJson;
  return backboneSizesOf(json).length > 0;
}
