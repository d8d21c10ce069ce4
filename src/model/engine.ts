import { IMAGENET_MOBILENET_V1 } from '../model-files/catalog.js';
import { cachedOnnxExport, defaultIntraOpThreads, type CachedOnnxExport, exportLayersModel, loadOnnxRuntime, OnnxSession } from '../onnx/index.js';
import { BACKBONE_ID as CENTERNET_ID, checkBackboneShape } from './backbone.js';
import { centernetFeatureExport } from './centernet-onnx.js';
import { IMAGENET_BACKBONE_ID, IMAGENET_FEATURE_LAYER, loadImagenetNet } from './imagenet-mobilenet.js';

/**
 * Which engine computes backbone features in Node. Models are defined and trained in TensorFlow.js; the frozen
 * backbone's forward pass, where the time goes, runs on ONNX Runtime (the same network exported to ONNX, cached
 * by content) when it can load here, else on tfjs-wasm. AREYOUACAT_ENGINE=tfjs forces the fallback;
 * AREYOUACAT_ORT_THREADS sets ONNX Runtime's threads per process (default: 2 on a machine with two cores or more;
 * local pools of one process per core give each process 1).
 */
export type EngineName = 'onnxruntime' | 'tfjs-wasm';

export const ENGINE_ENV = 'AREYOUACAT_ENGINE';
export const ORT_THREADS_ENV = 'AREYOUACAT_ORT_THREADS';

/** A backbone's feature extractor on ONNX Runtime: RGB 0..255 NHWC batches in, [n, features] out. */
export interface OnnxFeatureRunner {
  engine: 'onnxruntime';
  run(pixels: Float32Array, n: number, height: number, width: number): Promise<Float32Array>;
}

let announced = false;
const runners = new Map<string, Promise<OnnxFeatureRunner | null>>();

export function ortThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[ORT_THREADS_ENV];
  if (raw === undefined || raw === '') return defaultIntraOpThreads();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${ORT_THREADS_ENV} must be an integer from 1 to 64 (got "${raw}")`);
  return n;
}

/**
 * Each backbone's ONNX export for the engine (RGB 0..255 NHWC in, the network's features out, any accepted height
 * and width), cached by content, and the input shapes it takes.
 */
const FEATURE_EXPORTS: Record<string, { exported: () => Promise<CachedOnnxExport>; checkShape?: (height: number, width: number) => void }> = {
  [IMAGENET_BACKBONE_ID]: { exported: () => imagenetFeatureExport() },
  [CENTERNET_ID]: { exported: () => centernetFeatureExport(), checkShape: checkBackboneShape },
};

/** The ONNX export the engine runs for `backbone` (cached by content), or null when it has none. */
export function backboneFeatureExport(backbone: string): Promise<CachedOnnxExport> | null {
  return FEATURE_EXPORTS[backbone]?.exported() ?? null;
}

/**
 * The engine this process uses for `backbone` (without loading anything heavy). When onnxruntime-node cannot load,
 * the first call says so (a process warning, code AREYOUACAT_NO_ONNXRUNTIME) and every call answers tfjs-wasm.
 */
export function engineFor(backbone: string, env: NodeJS.ProcessEnv = process.env): EngineName {
  const wanted = env[ENGINE_ENV];
  if (wanted && wanted !== 'onnxruntime' && wanted !== 'tfjs') throw new Error(`${ENGINE_ENV} must be "onnxruntime" or "tfjs" (got "${wanted}")`);
  if (wanted === 'tfjs' || !(backbone in FEATURE_EXPORTS)) return 'tfjs-wasm';
  const ort = loadOnnxRuntime();
  if (!ort.available) {
    if (!announced) {
      announced = true;
      process.emitWarning(`${ort.reason}; backbone features run on tfjs-wasm instead (slower)`, { code: 'AREYOUACAT_NO_ONNXRUNTIME' });
    }
    return 'tfjs-wasm';
  }
  return 'onnxruntime';
}

/**
 * What to add to the environment of the processes or worker threads this process starts to compute features of
 * `backbones` (a local job pool, the server's inference threads; default: any backbone): when onnxruntime-node
 * cannot load here, `AREYOUACAT_ENGINE=tfjs`, so that they do not each try it again and say so again. This process
 * says it, once. Loads onnxruntime-node only when one of the backbones would run on it.
 */
export function engineEnvForWorkers(backbones: readonly string[] = Object.keys(FEATURE_EXPORTS)): Record<string, string> {
  const onOnnx = backbones.filter((b) => b in FEATURE_EXPORTS);
  if (onOnnx.length === 0 || process.env[ENGINE_ENV] === 'tfjs') return {};
  return onOnnx.some((b) => engineFor(b) === 'tfjs-wasm') ? { [ENGINE_ENV]: 'tfjs' } : {};
}

/** The ONNX export the engine runs for the ImageNet backbone (RGB 0..255 NHWC in, the pooled [n, 768] out), cached by content. */
export async function imagenetFeatureExport(): Promise<CachedOnnxExport> {
  const options = { outputLayer: IMAGENET_FEATURE_LAYER, pool: 'mean' as const, dynamicSize: true, pixelTransform: { scale: 1 / 127.5, offset: -1 } };
  const content = IMAGENET_MOBILENET_V1.files.map((f) => `${f.name}:${f.sha256}`);
  return cachedOnnxExport({ content, options: { backbone: IMAGENET_BACKBONE_ID, ...options } }, async () => exportLayersModel((await loadImagenetNet()).full, options));
}

async function featureRunner(backbone: string, threads: number): Promise<OnnxFeatureRunner> {
  const { exported, checkShape } = FEATURE_EXPORTS[backbone];
  const session = await OnnxSession.create((await exported()).bytes, { intraOpNumThreads: threads });
  return {
    engine: 'onnxruntime',
    run: async (pixels, n, height, width) => {
      // The shapes the tfjs path accepts, no more: the export is checked against tfjs at those.
      checkShape?.(height, width);
      return (await session.run({ data: pixels, dims: [n, height, width, 3] })).data;
    },
  };
}

/** The ONNX Runtime feature runner of a backbone, once per process, or null when this backbone runs on tfjs. */
export function onnxFeatureRunner(backbone: string): Promise<OnnxFeatureRunner | null> {
  if (engineFor(backbone) !== 'onnxruntime') return Promise.resolve(null);
  let r = runners.get(backbone);
  if (!r) {
    r = featureRunner(backbone, ortThreads());
    r.catch(() => runners.delete(backbone));
    runners.set(backbone, r);
  }
  return r;
}
