import fs from 'node:fs/promises';
import path from 'node:path';
import { readJson } from '../storage/atomic.js';
import { readPromoted } from '../registry/registry.js';
import { artifactsFromFiles, backboneSizesOf, MODEL_JSON, type LayersModelJson } from '../model/io.js';
import { BACKBONE_FEATURES, BACKBONE_ID, backboneArtifacts, FEATURE_RECIPE } from '../model/backbone.js';
import type { ModelCard } from '../registry/types.js';

/**
 * The promoted model packed for the browser: one JSON (topology, weight specs, card) and one weights buffer
 * (the shards concatenated in manifest order, as tfjs expects them). `model` is null when nothing is promoted.
 * Two files because attachment names are content-hashed: model.json's relative weight paths would not resolve.
 * A model on a pretrained backbone also carries the backbone's graph (resized for the model's input) and the
 * feature recipe; its weights are a third file.
 */
export interface BrowserModel {
  model: {
    card: ModelCard;
    format: string | null;
    modelTopology: unknown;
    weightSpecs: unknown[];
    weightBytes: number;
    backbone: { id: string; imageSize: number; features: number; recipe: typeof FEATURE_RECIPE; modelTopology: unknown; weightSpecs: unknown[]; weightBytes: number } | null;
  } | null;
  weights: Buffer;
  backboneWeights: Buffer;
}

export async function promotedBrowserModel(): Promise<BrowserModel> {
  const promoted = await readPromoted();
  if (!promoted) return { model: null, weights: Buffer.alloc(0), backboneWeights: Buffer.alloc(0) };
  const json = await readJson<LayersModelJson>(path.join(promoted.dir, MODEL_JSON));
  const files: Record<string, Uint8Array> = {};
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) files[path.posix.normalize(p).replace(/^\.\//, '')] = await fs.readFile(path.join(promoted.dir, p));
  }
  const artifacts = artifactsFromFiles(json, files);
  const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
  const [size] = backboneSizesOf(json);
  const graph = size ? await backboneArtifacts(size) : null;
  const backboneWeights = graph ? Buffer.from(graph.weightData as ArrayBuffer) : Buffer.alloc(0);
  return {
    model: {
      card: promoted.card,
      format: artifacts.format ?? null,
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs ?? [],
      weightBytes: weights.length,
      backbone: graph
        ? { id: BACKBONE_ID, imageSize: size, features: BACKBONE_FEATURES, recipe: FEATURE_RECIPE, modelTopology: graph.modelTopology, weightSpecs: graph.weightSpecs ?? [], weightBytes: backboneWeights.length }
        : null,
    },
    weights,
    backboneWeights,
  };
}
