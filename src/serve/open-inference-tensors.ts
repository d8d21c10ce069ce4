import { isWholeViewShape, type ViewShape } from '../data/whole-view.js';
import { HttpError } from './http-errors.js';
import { checkElements, type RequestBudget } from './request-budget.js';

/**
 * Tensors of the Open Inference Protocol (KServe V2) REST API as this model reads and writes them. One input, sent
 * as exactly one of:
 * - `image`: `BYTES`, shape `[N]` or `[N, 1]`, each element an encoded image file (JPEG, PNG, WebP, GIF) in base64;
 * - `pixels`: `FP32`, shape `[N, S, S, 3]` (S = the model's image size), prepared RGB values 0..255 in row-major order
 *   (height, width, channel), the same numbers as the prepared bytes the model reads (rounded to whole numbers). A
 *   pretrained-backbone model reads each photo's whole view instead of the square: it also takes `[N, H, W, 3]` for
 *   any whole-view shape (shorter side S, longer side a multiple of 32 up to 2S; all N of that one shape).
 * Outputs: `p_cat` (`FP32 [N, 1]`) and `label` (`BYTES [N]`, "cat" or "not-cat" at the model's threshold).
 */
export const INPUT_IMAGE = 'image';
export const INPUT_PIXELS = 'pixels';
export const OUTPUT_P_CAT = 'p_cat';
export const OUTPUT_LABEL = 'label';
export const OUTPUT_NAMES = [OUTPUT_P_CAT, OUTPUT_LABEL] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** The model metadata's inputs and outputs (-1: any batch size; for a whole-view model, any allowed height and width). */
export function tensorMetadata(imageSize: number, wholeView = false): { inputs: MetadataTensor[]; outputs: MetadataTensor[] } {
  return {
    inputs: [
      { name: INPUT_IMAGE, datatype: 'BYTES', shape: [-1] },
      { name: INPUT_PIXELS, datatype: 'FP32', shape: wholeView ? [-1, -1, -1, 3] : [-1, imageSize, imageSize, 3] },
    ],
    outputs: [
      { name: OUTPUT_P_CAT, datatype: 'FP32', shape: [-1, 1] },
      { name: OUTPUT_LABEL, datatype: 'BYTES', shape: [-1] },
    ],
  };
}

const bad = (message: string) => new HttpError(400, 'bad_request', message);

/** The input of an inference request, checked: encoded image files or prepared pixels, N of them. */
export type InferInput = { kind: 'images'; n: number; files: Buffer[] } | { kind: 'pixels'; n: number; pixels: Uint8Array[]; view: ViewShape };

export interface InferRequest {
  id: string | undefined;
  input: InferInput;
  /** Requested outputs in the order asked for (all when the request names none). */
  outputs: OutputName[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Tensor data in row-major order: a flat array, or nested arrays of any depth (flattened here). */
function flatten(data: unknown, what: string, limit: number): unknown[] {
  if (!Array.isArray(data)) throw bad(`${what}: "data" must be an array`);
  const out: unknown[] = [];
  const visit = (v: unknown, depth: number) => {
    if (Array.isArray(v)) {
      if (depth > 8) throw bad(`${what}: "data" is nested too deeply`);
      for (const x of v) visit(x, depth + 1);
    } else {
      if (out.length >= limit) throw bad(`${what}: "data" has more than the ${limit} elements its shape allows`);
      out.push(v);
    }
  };
  visit(data, 0);
  return out;
}

function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`${what}: "shape" must be a non-empty array of whole numbers >= 0`);
  }
  return shape as number[];
}

/** Any character outside the standard base64 alphabet and padding (a linear scan: no backtracking, no recursion). */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Whether `s` is strict base64: the standard alphabet, a length that is a multiple of 4, and `=` only as one or two
 * padding characters at the very end. Checked without one regular expression over the whole string, whose
 * backtracking overflowed the stack on strings of a few million characters.
 */
function isStrictBase64(s: string): boolean {
  if (s.length % 4 !== 0 || NOT_BASE64.test(s)) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const firstPad = s.indexOf('=');
  if (firstPad !== -1 && firstPad !== s.length - pad) return false;
  return true;
}

/** Decode one base64 string strictly (standard alphabet, padded): anything else is a client error. */
export function decodeBase64(s: unknown, what: string, maxBytes: number): Buffer {
  if (typeof s !== 'string') throw bad(`${what}: BYTES elements must be base64 strings`);
  if (s.length === 0) throw bad(`${what}: empty image`);
  if (Math.floor((s.length * 3) / 4) > maxBytes + 2) throw bad(`${what}: the image is larger than the limit of ${maxBytes} bytes`);
  if (!isStrictBase64(s)) throw bad(`${what}: not valid base64`);
  return Buffer.from(s, 'base64');
}

function parseImages(input: Record<string, unknown>, shape: number[], maxBatch: number, maxImageBytes: number): InferInput {
  const what = `input "${INPUT_IMAGE}"`;
  if (input.datatype !== 'BYTES') throw bad(`${what} must have datatype BYTES (got ${JSON.stringify(input.datatype)})`);
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) throw bad(`${what}: shape must be [N] or [N, 1] (got ${JSON.stringify(shape)})`);
  const n = shape[0];
  checkBatch(n, maxBatch, what);
  const data = flatten(input.data, what, n);
  if (data.length !== n) throw bad(`${what}: shape ${JSON.stringify(shape)} needs ${n} elements, "data" has ${data.length}`);
  return { kind: 'images', n, files: data.map((s, i) => decodeBase64(s, `${what}[${i}]`, maxImageBytes)) };
}

function parsePixels(input: Record<string, unknown>, shape: number[], imageSize: number, wholeView: boolean, maxBatch: number, budget?: RequestBudget): InferInput {
  const what = `input "${INPUT_PIXELS}"`;
  if (input.datatype !== 'FP32') throw bad(`${what} must have datatype FP32 (got ${JSON.stringify(input.datatype)})`);
  const square = shape.length === 4 && shape[1] === imageSize && shape[2] === imageSize && shape[3] === 3;
  const view = { height: shape[1], width: shape[2] };
  if (!square && !(wholeView && shape.length === 4 && shape[3] === 3 && isWholeViewShape(view, imageSize))) {
    const whole = wholeView ? ` or a whole view [N, H, W, 3] (shorter side ${imageSize}, longer side a multiple of 32 up to ${2 * imageSize})` : '';
    throw bad(`${what}: shape must be [N, ${imageSize}, ${imageSize}, 3]${whole} (got ${JSON.stringify(shape)})`);
  }
  const n = shape[0];
  checkBatch(n, maxBatch, what);
  if (budget) checkElements(shape, budget);
  const per = view.height * view.width * 3;
  const data = flatten(input.data, what, n * per);
  if (data.length !== n * per) throw bad(`${what}: shape ${JSON.stringify(shape)} needs ${n * per} elements, "data" has ${data.length}`);
  const pixels: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const px = new Uint8Array(per);
    for (let j = 0; j < per; j++) {
      const v = data[i * per + j];
      if (typeof v !== 'number' || !(v >= 0 && v <= 255)) {
        throw bad(`${what}: element ${i * per + j} is ${JSON.stringify(v)}; values must be numbers from 0 to 255`);
      }
      px[j] = Math.round(v);
    }
    pixels.push(px);
  }
  return { kind: 'pixels', n, pixels, view };
}

function checkBatch(n: number, maxBatch: number, what: string): void {
  if (n < 1) throw bad(`${what}: the batch is empty (N = 0)`);
  if (n > maxBatch) throw bad(`${what}: batch of ${n} is above the maximum of ${maxBatch}`);
}

/** Check a parsed JSON inference request against the protocol and this model's tensors. */
export function parseInferRequest(body: unknown, opts: { imageSize: number; wholeView?: boolean; maxBatch: number; maxImageBytes: number; budget?: RequestBudget }): InferRequest {
  if (!isObject(body)) throw bad('the request body must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string') throw bad('"id" must be a string');
  if (body.parameters !== undefined && !isObject(body.parameters)) throw bad('"parameters" must be an object');
  if (!Array.isArray(body.inputs)) throw bad('"inputs" must be an array of tensors');
  if (body.inputs.length !== 1) {
    throw bad(`send exactly one input, "${INPUT_IMAGE}" (BYTES) or "${INPUT_PIXELS}" (FP32); got ${body.inputs.length}`);
  }
  const input = body.inputs[0] as unknown;
  if (!isObject(input)) throw bad('each input must be an object {name, shape, datatype, data}');
  if (input.parameters !== undefined && !isObject(input.parameters)) throw bad('input "parameters" must be an object');
  if (typeof input.datatype !== 'string') throw bad('input "datatype" must be a string');
  const shape = checkShape(input.shape, `input ${JSON.stringify(input.name)}`);
  let parsed: InferInput;
  if (input.name === INPUT_IMAGE) parsed = parseImages(input, shape, opts.maxBatch, opts.maxImageBytes);
  else if (input.name === INPUT_PIXELS) parsed = parsePixels(input, shape, opts.imageSize, opts.wholeView ?? false, opts.maxBatch, opts.budget);
  else throw bad(`unknown input ${JSON.stringify(input.name)}: this model takes "${INPUT_IMAGE}" (BYTES) or "${INPUT_PIXELS}" (FP32)`);

  let outputs: OutputName[] = [...OUTPUT_NAMES];
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad('"outputs" must be an array of {name}');
    outputs = body.outputs.map((o: unknown) => {
      if (!isObject(o) || typeof o.name !== 'string') throw bad('each requested output must be an object with a "name"');
      if (o.parameters !== undefined && !isObject(o.parameters)) throw bad('output "parameters" must be an object');
      if (!(OUTPUT_NAMES as readonly string[]).includes(o.name)) throw bad(`unknown output ${JSON.stringify(o.name)}: this model has ${OUTPUT_NAMES.join(', ')}`);
      return o.name as OutputName;
    });
    if (new Set(outputs).size !== outputs.length) throw bad('an output is requested twice');
  }
  return { id: typeof body.id === 'string' ? body.id : undefined, input: parsed, outputs };
}

export interface ResponseTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: Array<number | string>;
}

/** The response tensors asked for, from the probabilities and the model's threshold. */
export function outputTensors(probabilities: number[], threshold: number, names: OutputName[]): ResponseTensor[] {
  const n = probabilities.length;
  return names.map((name) =>
    name === OUTPUT_P_CAT
      ? { name, shape: [n, 1], datatype: 'FP32', data: probabilities }
      : { name, shape: [n], datatype: 'BYTES', data: probabilities.map((p) => (p >= threshold ? 'cat' : 'not-cat')) },
  );
}
