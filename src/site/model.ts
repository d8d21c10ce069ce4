import fs from 'node:fs/promises';
import path from 'node:path';
import { readJson } from '../storage/atomic.js';
import { readPromoted } from '../registry/registry.js';
import { artifactsFromFiles, MODEL_JSON, usableBackboneLayers, type LayersModelJson } from '../model/io.js';
import { IMAGENET_BACKBONE_ID, IMAGENET_CAT_CLASSES, IMAGENET_DOG_CLASSES, IMAGENET_FEATURE_LAYER, IMAGENET_FEATURES, IMAGENET_PROBS_LAYER, imagenetArtifacts } from '../model/imagenet-mobilenet.js';
import { ensureModelFiles, IMAGENET_MOBILENET_V1, readVerified } from '../model-files/index.js';
import { BACKBONE_FEATURES, BACKBONE_ID, BACKBONE_VIEW, backboneArtifacts, FEATURE_RECIPE, NATIVE_SIZE, readBackboneFiles, upsamplingOffsets, type GraphJson } from '../model/backbone.js';
import type { ModelCard } from '../registry/types.js';
import { trainingDataSummary, type TrainingDataSummary } from '../registry/training-data.js';
import { feedbackStoreChoices, type FeedbackStoreChoices } from '../feedback/store-choices.js';

/**
 * The promoted model packed for the browser: one JSON (topology, weight specs, card) and one weights buffer
 * (the shards concatenated in manifest order, as tfjs expects them). `model` is null when nothing is promoted.
 * Two files because attachment names are content-hashed: model.json's relative weight paths would not resolve.
 * A model on a pretrained backbone also carries the backbone's graph (resized for the model's square input), the
 * feature recipe and where the three upsampling targets sit in its weights with their native values (so the page
 * patches the graph for a whole view of another shape); its weights are a third file.
 */
export interface BrowserBackbone {
  /** 'graph': the CenterNet graph, patched per view shape; 'layers': a Keras model with a free input height and width. */
  kind: 'graph' | 'layers';
  id: string;
  view: string;
  imageSize: number;
  features: number;
  recipe: typeof FEATURE_RECIPE | { layer: string; probsLayer: string; catClasses: number[]; dogClasses: number[]; scale: 'minus-one-to-one' };
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightBytes: number;
  nativeSize: number;
  /** Byte offset in the weights of each [height, width] int32 upsampling target, and its value at nativeSize. */
  upsampling: Array<{ offset: number; native: [number, number] }>;
}

export interface BrowserModel {
  model: {
    card: ModelCard;
    format: string | null;
    modelTopology: unknown;
    weightSpecs: unknown[];
    weightBytes: number;
    backbone: BrowserBackbone | null;
    /** What the model was trained on, in words (and, for the synthetic set, that it is a demonstration). */
    trainedOn: TrainingDataSummary;
    /** What a user may choose to keep with an answer to this model (the server's /api/health says it for the served one). */
    feedback: FeedbackStoreChoices;
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
  const [layer] = usableBackboneLayers(json);
  if (layer?.backbone === IMAGENET_BACKBONE_ID) return { ...(await imagenetBrowserModel(promoted.card, json, artifacts, weights, layer.imageSize)) };
  const size = layer?.imageSize;
  const graph = size ? await backboneArtifacts(size) : null;
  const backboneWeights = graph ? Buffer.from(graph.weightData as ArrayBuffer) : Buffer.alloc(0);
  let upsampling: BrowserBackbone['upsampling'] = [];
  if (graph) {
    const files = await readBackboneFiles();
    upsampling = upsamplingOffsets(JSON.parse(files.json) as GraphJson).map((offset) => ({ offset, native: [files.bin.readInt32LE(offset), files.bin.readInt32LE(offset + 4)] }));
  }
  return {
    model: {
      card: promoted.card,
      format: artifacts.format ?? null,
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs ?? [],
      weightBytes: weights.length,
      backbone: graph
        ? {
          kind: 'graph', id: BACKBONE_ID, view: BACKBONE_VIEW, imageSize: size, features: BACKBONE_FEATURES, recipe: FEATURE_RECIPE,
          modelTopology: graph.modelTopology, weightSpecs: graph.weightSpecs ?? [], weightBytes: backboneWeights.length, nativeSize: NATIVE_SIZE, upsampling,
        }
        : null,
      trainedOn: trainingDataSummary(promoted.card, { backbone: graph ? BACKBONE_ID : null }),
      feedback: feedbackStoreChoices({ hasBackbone: graph !== null }),
    },
    weights,
    backboneWeights,
  };
}

/** A model on the ImageNet backbone: the Keras MobileNet from the model cache (verified), with a free input shape. */
async function imagenetBrowserModel(card: ModelCard, json: LayersModelJson, artifacts: ReturnType<typeof artifactsFromFiles>, weights: Buffer, size: number): Promise<BrowserModel> {
  const backbone = imagenetArtifacts(await readVerified(IMAGENET_MOBILENET_V1, await ensureModelFiles(IMAGENET_BACKBONE_ID)));
  const backboneWeights = Buffer.from(backbone.weightData as ArrayBuffer);
  return {
    model: {
      card,
      format: artifacts.format ?? json.format ?? null,
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs ?? [],
      weightBytes: weights.length,
      backbone: {
        kind: 'layers', id: IMAGENET_BACKBONE_ID, view: BACKBONE_VIEW, imageSize: size, features: IMAGENET_FEATURES,
        recipe: { layer: IMAGENET_FEATURE_LAYER, probsLayer: IMAGENET_PROBS_LAYER, catClasses: [...IMAGENET_CAT_CLASSES], dogClasses: IMAGENET_DOG_CLASSES, scale: 'minus-one-to-one' },
        modelTopology: backbone.modelTopology, weightSpecs: backbone.weightSpecs ?? [], weightBytes: backboneWeights.length, nativeSize: 224, upsampling: [],
      },
      trainedOn: trainingDataSummary(card, { backbone: IMAGENET_BACKBONE_ID }),
      feedback: feedbackStoreChoices({ hasBackbone: true }),
    },
    weights,
    backboneWeights,
  };
}
