import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import { loadModel, MODEL_JSON, savedBackboneLayers, type LayersModelJson } from '../model/io.js';
import { exportWholeModelOnnx, onnxExportSupport, OnnxModelExportUnsupportedError, type WholeModelOnnx } from '../model/onnx-model.js';
import { selectBackend } from '../model/backend.js';
import { PRETRAINED_MODELS } from '../model-files/index.js';
import { cachedOnnxExport } from '../onnx/index.js';
import { getVersion } from './registry.js';
import type { ModelCard } from './types.js';

/**
 * A registry version as one ONNX file (see `src/model/onnx-model.ts` for the input contract: RGB 0..255 NHWC pixels
 * in, `p_cat` out, the mirror mean inside for backbone models) and as a Triton model repository:
 *
 *   <out>/<name>/config.pbtxt     platform onnxruntime_onnx, input/output names, TYPE_FP32, dims (-1 where dynamic)
 *   <out>/<name>/1/model.onnx
 *
 * Exports are cached by content (the version's files and the backbone's pinned files), so exporting again and
 * publishing cost nothing after the first time.
 */

/** The file name of the ONNX model beside a version's files on S3 and in a Triton version folder. */
export const ONNX_MODEL_FILE = 'model.onnx';
export const DEFAULT_TRITON_NAME = 'areyouacat';

export interface VersionOnnx extends Omit<WholeModelOnnx, 'bytes'> {
  version: number;
  bytes: Uint8Array;
  sha256: string;
  card: ModelCard;
}

async function versionContent(dir: string, card: ModelCard): Promise<string[]> {
  const parts: string[] = [];
  for (const name of card.files.filter((f) => f !== 'card.json').sort()) {
    parts.push(`${name}:${createHash('sha256').update(await fsp.readFile(path.join(dir, ...name.split('/')))).digest('hex')}`);
  }
  return parts;
}

/** The backbone a saved version is built on (null for the CNN from scratch), read from its model.json alone. */
export async function versionBackbone(dir: string): Promise<string | null> {
  const json = JSON.parse(await fsp.readFile(path.join(dir, MODEL_JSON), 'utf8')) as LayersModelJson;
  return savedBackboneLayers(json)[0]?.backbone ?? null;
}

/**
 * Whether a version can be exported, and if not why, without loading it (a model on a backbone the exporter has
 * no ONNX stages for cannot).
 */
export async function versionOnnxSupport(v: number | string, opts: { root?: string } = {}): Promise<ReturnType<typeof onnxExportSupport> & { backbone: string | null }> {
  const local = await getVersion(v, opts);
  const backbone = await versionBackbone(local.dir);
  return { ...onnxExportSupport(backbone), backbone };
}

/**
 * The ONNX export of a registry version (cached by content in the ONNX cache). Throws
 * OnnxModelExportUnsupportedError, before loading anything, for a backbone the exporter cannot write.
 */
export async function exportVersionOnnx(v: number | string, opts: { root?: string; cacheDir?: string } = {}): Promise<VersionOnnx> {
  const local = await getVersion(v, opts);
  const backbone = await versionBackbone(local.dir);
  const support = onnxExportSupport(backbone);
  if (!support.supported) throw new OnnxModelExportUnsupportedError(backbone!, support.reason);
  const pins = PRETRAINED_MODELS.find((m) => m.id === backbone)?.files.map((f) => `${backbone}/${f.name}:${f.sha256}`) ?? [];
  let info: Omit<WholeModelOnnx, 'bytes'> | undefined;
  const exported = await cachedOnnxExport({ content: [...(await versionContent(local.dir, local.card)), ...pins], options: { wholeModel: 1, backbone }, dir: opts.cacheDir }, async () => {
    await selectBackend({ prefer: 'wasm' });
    const model = await loadModel(local.dir);
    try {
      const { bytes, ...rest } = await exportWholeModelOnnx(model);
      info = rest;
      return bytes;
    } finally {
      model.dispose();
    }
  });
  info ??= describeWithoutLoading(backbone, local.card.imageSize);
  return { ...info, version: local.version, bytes: exported.bytes, sha256: createHash('sha256').update(exported.bytes).digest('hex'), card: local.card };
}

/** What `exportWholeModelOnnx` reports for a model of this kind (for an export read back from the cache). */
function describeWithoutLoading(backbone: string | null, imageSize: number): Omit<WholeModelOnnx, 'bytes'> {
  return {
    inputName: 'pixels',
    outputName: 'p_cat',
    inputShape: backbone ? [null, null, null, 3] : [null, imageSize, imageSize, 3],
    outputShape: [null, 1],
    backbone,
    mirrorMean: backbone !== null,
  };
}

/** The input contract in words (for config.pbtxt and the CLI). */
export function inputContract(exported: Pick<VersionOnnx, 'backbone'> & { card: Pick<ModelCard, 'imageSize'> }): string {
  const size = exported.card.imageSize;
  return exported.backbone
    ? `float32 NHWC RGB 0..255, the photo's whole view: shorter side ${size}, longer side a multiple of 32 up to ${2 * size}; p_cat is the mean over the view and its mirror image`
    : `float32 NHWC RGB 0..255, the photo's centre square at ${size}x${size}`;
}

const dimsText = (dims: (number | null)[]) => `[ ${dims.map((d) => d ?? -1).join(', ')} ]`;

/**
 * Triton's config.pbtxt for an exported version. A backbone model takes whole views of different shapes, which
 * Triton cannot stack into one batch, so it declares no batching (max_batch_size 0) and the full shape with the
 * batch as -1; the CNN from scratch has one fixed square input and lets Triton batch requests (up to `maxBatch`).
 */
export function tritonConfig(exported: Omit<VersionOnnx, 'bytes' | 'card'> & { card: Pick<ModelCard, 'threshold' | 'imageSize'> }, name: string = DEFAULT_TRITON_NAME, maxBatch = 64): string {
  const batching = exported.inputShape.slice(1).every((d) => d !== null);
  const input = batching ? exported.inputShape.slice(1) : exported.inputShape;
  const output = batching ? exported.outputShape.slice(1) : exported.outputShape;
  const lines = [
    `name: "${name}"`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${batching ? maxBatch : 0}`,
    'input [',
    '  {',
    `    name: "${exported.inputName}"`,
    '    data_type: TYPE_FP32',
    `    dims: ${dimsText(input)}`,
    '  }',
    ']',
    'output [',
    '  {',
    `    name: "${exported.outputName}"`,
    '    data_type: TYPE_FP32',
    `    dims: ${dimsText(output)}`,
    '  }',
    ']',
    ...(batching ? ['dynamic_batching { }'] : []),
    'instance_group [ { kind: KIND_CPU, count: 1 } ]',
    `parameters { key: "areyouacat_version" value: { string_value: "${exported.version}" } }`,
    `parameters { key: "threshold" value: { string_value: "${exported.card.threshold}" } }`,
    `parameters { key: "input_contract" value: { string_value: "${inputContract(exported)}" } }`,
  ];
  return lines.join('\n') + '\n';
}

export interface TritonExport {
  dir: string;
  config: string;
  model: string;
  exported: VersionOnnx;
}

/** Write a version as a Triton model repository under `outDir` (`<name>/config.pbtxt`, `<name>/1/model.onnx`). */
export async function writeTritonRepository(v: number | string, outDir: string, opts: { root?: string; cacheDir?: string; name?: string } = {}): Promise<TritonExport> {
  const name = opts.name ?? DEFAULT_TRITON_NAME;
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') throw new Error(`"${name}" is not a usable Triton model name (letters, digits, _ . -)`);
  const exported = await exportVersionOnnx(v, opts);
  const dir = path.join(outDir, name);
  const model = path.join(dir, '1', ONNX_MODEL_FILE);
  const config = path.join(dir, 'config.pbtxt');
  await fsp.mkdir(path.dirname(model), { recursive: true });
  await writeFileAtomic(model, exported.bytes);
  await writeFileAtomic(config, tritonConfig(exported, name));
  return { dir, config, model, exported };
}
