import { randomUUID } from 'node:crypto';

/** What an incoming X-Request-Id may be to be kept: a short token of letters, digits and `._:@+=/-`. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/**
 * The id of a request: the client's (or a proxy's) `X-Request-Id` when it is a sane token, else a new UUID. It goes
 * back in the response's `X-Request-Id` and on the request's log lines, so one request can be found on both sides.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
