import type { ServerResponse } from 'node:http';

/** An error that becomes a JSON response `{ error: { code, message } }` with the given HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/**
 * Answer with an error. Unknown errors become a 500 whose message names no internals (the details go to the log).
 * When the request body was not read to its end the connection is closed after the answer, so a client that is
 * still sending does not keep the socket busy.
 */
export function sendError(res: ServerResponse, err: unknown, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e =
    err instanceof HttpError ? err : new HttpError(500, 'internal_error', 'the server failed to handle the request');
  const headers: Record<string, string> = { ...e.headers };
  if (closeConnection) headers.connection = 'close';
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, headers);
}
