import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

export function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the upload is larger than the limit of ${limitBytes} bytes`);
}

/** Declared body length, or null when the client streams without one (chunked). Rejects a malformed header. */
export function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, 'bad_content_length', 'content-length is not a number');
  return Number(raw);
}

/** The declared body length (null when chunked), refused before a byte is read when above `limitBytes`. */
export function declaredLengthWithin(req: IncomingMessage, limitBytes: number, limitShown = limitBytes): number | null {
  const declared = declaredLength(req);
  if (declared !== null && declared > limitBytes) throw tooLarge(limitShown);
  return declared;
}

/**
 * Read a request body into memory, never more than `limitBytes`: a declared content-length above the limit is refused
 * before a byte is read, and a body that grows past it is refused as soon as it does. A body that ends early
 * (client gone, fewer bytes than declared) is refused as truncated. `inspect` sees each chunk as it arrives and may
 * refuse the body by throwing an HttpError (a check spread over the upload, instead of one pass over the whole body
 * that holds the event loop).
 */
export function readBodyLimited(req: IncomingMessage, limitBytes: number, inspect?: (chunk: Buffer) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let declared: number | null;
    try {
      declared = declaredLengthWithin(req, limitBytes);
    } catch (err) {
      reject(err);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        fail(tooLarge(limitBytes));
        return;
      }
      if (inspect) {
        try {
          inspect(chunk);
        } catch (err) {
          fail(err instanceof HttpError ? err : new HttpError(400, 'bad_body', (err as Error).message));
          return;
        }
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (settled) return;
      if (!req.complete || (declared !== null && received !== declared)) {
        fail(truncated());
        return;
      }
      settled = true;
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onAborted = () => fail(truncated());
    const onError = () => fail(truncated());
    const onClose = () => {
      if (!req.complete) fail(truncated());
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function truncated(): HttpError {
  return new HttpError(400, 'truncated_body', 'the request body ended before all of it arrived');
}

/**
 * After an early answer (413 etc.) the rest of the body is read and dropped, for a bounded time, so that the client
 * sees the answer instead of a reset connection; then the socket is closed.
 */
export function discardRest(req: IncomingMessage, maxMs = 5000): void {
  if (req.complete) return;
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), maxMs);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}
