import sharp from 'sharp';
import { HttpError } from './http-errors.js';

/**
 * What one Open Inference Protocol request may cost, whatever its batch: decoded image pixels (the sum over its
 * images, read from their headers before any decoding) and tensor elements (of a pixels input, checked on the body
 * before it is parsed and on the shape after). Without these, one request of 32 whole views took gigabytes.
 */
export interface RequestBudget {
  /** Decoded pixels of all the images of one request. */
  maxPixels: number;
  /** Elements of a request's tensor (N x H x W x 3 for pixels). */
  maxElements: number;
}

/** 64 million decoded pixels: e.g. 5 photos of 12 Mpx, or 32 of 2 Mpx. */
export const DEFAULT_REQUEST_PIXELS = 64_000_000;
/** 6,291,456 elements: 32 squares of 256 x 256 x 3, or 16 whole views of 256 x 512. */
export const DEFAULT_REQUEST_ELEMENTS = 32 * 256 * 256 * 3;

export const REQUEST_PIXELS_ENV = 'AREYOUACAT_SERVE_MAX_REQUEST_PIXELS';
export const REQUEST_ELEMENTS_ENV = 'AREYOUACAT_SERVE_MAX_REQUEST_ELEMENTS';

function fromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new Error(`${name} must be a whole number >= 1 (got "${raw}")`);
  return Number(raw);
}

/** The budget from explicit values, else the environment, else the defaults. */
export function requestBudget(explicit: Partial<RequestBudget> = {}, env: NodeJS.ProcessEnv = process.env): RequestBudget {
  return {
    maxPixels: explicit.maxPixels ?? fromEnv(env, REQUEST_PIXELS_ENV, DEFAULT_REQUEST_PIXELS),
    maxElements: explicit.maxElements ?? fromEnv(env, REQUEST_ELEMENTS_ENV, DEFAULT_REQUEST_ELEMENTS),
  };
}

const COMMA = 0x2c;

/**
 * Before parsing: a JSON body with more separators than a tensor within the budget can have is refused without
 * being parsed (parsing 12 million numbers costs hundreds of MB and seconds of the event loop). A tensor of E
 * elements in nested [N, H, W, 3] arrays has about 4/3 E commas; a flat one E. Fed chunk by chunk as the body
 * arrives (see `readBodyLimited`), so an oversized body is refused at the first chunk over the count, before the
 * rest is read, and no single pass over a large body holds the event loop.
 */
export function bodyBudgetCheck(budget: RequestBudget): (chunk: Buffer) => void {
  const allowed = Math.ceil(budget.maxElements * (4 / 3)) + 1024;
  let commas = 0;
  return (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === COMMA && ++commas > allowed) {
        throw new HttpError(
          413,
          'request_too_large',
          `the request holds more tensor elements than the limit of ${budget.maxElements} per request (${REQUEST_ELEMENTS_ENV}); send fewer images per request`,
        );
      }
    }
  };
}

/** After parsing: the declared shape's element count against the budget. */
export function checkElements(shape: number[], budget: RequestBudget): void {
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements > budget.maxElements) {
    throw new HttpError(
      413,
      'request_too_large',
      `the request's tensor ${JSON.stringify(shape)} holds ${elements} elements, above the limit of ${budget.maxElements} per request (${REQUEST_ELEMENTS_ENV}); send fewer images per request`,
    );
  }
}

/**
 * Decoded pixels of encoded images from their headers (nothing is decoded), refused above the budget. A file whose
 * header cannot be read, or that is over the per-image limit, counts as nothing here: it fails later with its own 4xx.
 */
export async function checkDecodedPixels(files: Buffer[], budget: RequestBudget, perImageMax: number): Promise<void> {
  let total = 0;
  for (const file of files) {
    let pixels: number;
    try {
      const meta = await sharp(file, { limitInputPixels: false }).metadata();
      pixels = (meta.width ?? 0) * (meta.height ?? 0);
    } catch {
      continue;
    }
    // An image over the per-image limit is refused on its own (naming that limit) when its turn comes.
    if (pixels > perImageMax) continue;
    total += pixels;
    if (total > budget.maxPixels) {
      throw new HttpError(
        413,
        'request_too_large',
        `the request's images hold more than ${budget.maxPixels} pixels in all, the limit per request (${REQUEST_PIXELS_ENV}); send fewer or smaller images per request`,
      );
    }
  }
}
