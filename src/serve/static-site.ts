import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request handler that answers true when it took the request (and will answer it), false to let others try. */
export type StaticSiteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface StaticSiteOptions {
  /** Folder of the built site (e.g. `dist/reports`). */
  root: string;
  /** URL path the site is mounted under, e.g. `/reports`; '' or '/' for the origin root. */
  prefix?: string;
  /** When true, unknown paths under the prefix get the site's 404.html with status 404 instead of `false`. */
  notFound?: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.bin': 'application/octet-stream',
};

/** Content type served for a file name; unknown extensions are sent as bytes. */
export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Cache policy: pages must always be revalidated (they embed the latest report data by hashed name), while
 * Framework's hashed assets (`_observablehq/`, `_npm/`, `_node/`, `_file/`, `_import/`) never change.
 */
export function cacheControlFor(relPath: string): string {
  return /^_(observablehq|npm|node|file|import|jsr)\//.test(relPath)
    ? 'public, max-age=31536000, immutable'
    : 'no-cache';
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return '';
  const p = '/' + prefix.replace(/^\/+|\/+$/g, '');
  return p;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

type Resolution =
  | { kind: 'file'; file: string; rel: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'bad' }
  | { kind: 'missing' };

/**
 * Map a decoded URL path below the prefix (always starting with '/') to a file of the site. `/page` serves
 * `page.html`, `/dir/` serves `dir/index.html`, `/dir` redirects to `/dir/` when only the index exists.
 */
function resolvePath(realRoot: string, sitePath: string, mountedAt: string, search: string): Resolution {
  if (sitePath.includes('\0') || sitePath.includes('\\')) return { kind: 'bad' };
  const segments = sitePath.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { kind: 'bad' };
  const rel = sitePath.replace(/^\/+/, '');
  const candidates: string[] = [];
  if (rel === '' || rel.endsWith('/')) candidates.push(rel + 'index.html');
  else {
    candidates.push(rel);
    if (!path.extname(rel)) candidates.push(rel + '.html');
  }
  for (const candidate of candidates) {
    const file = path.resolve(realRoot, candidate);
    if (!isInside(realRoot, file) || !isFile(file)) continue;
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      continue;
    }
    if (!isInside(realRoot, real)) return { kind: 'bad' };
    return { kind: 'file', file: real, rel: candidate };
  }
  if (rel !== '' && !rel.endsWith('/') && isFile(path.resolve(realRoot, rel, 'index.html'))) {
    return { kind: 'redirect', location: `${mountedAt}${sitePath}/${search}` };
  }
  return { kind: 'missing' };
}

function isInside(root: string, file: string): boolean {
  const r = path.relative(root, file);
  return r !== '' && !r.startsWith('..') && !path.isAbsolute(r);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

function serveFile(req: IncomingMessage, res: ServerResponse, file: string, rel: string, status = 200): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    send(res, 404, 'not found\n');
    return;
  }
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': contentTypeFor(file),
    'cache-control': status === 200 ? cacheControlFor(rel) : 'no-cache',
    etag,
    'last-modified': stat.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  };
  if (status === 200 && req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-length'] = String(stat.size);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = fs.createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * A node:http handler for the built report site. Returns false (and writes nothing) for requests that are not
 * GET/HEAD, not under the prefix, or name no file of the site, so a server can chain it with its API routes.
 */
export function createStaticSiteHandler(options: StaticSiteOptions): StaticSiteHandler {
  const mountedAt = normalizePrefix(options.prefix);
  const root = path.resolve(options.root);
  let realRoot: string | undefined;
  const siteRoot = (): string | undefined => {
    if (realRoot) return realRoot;
    try {
      realRoot = fs.realpathSync(root);
    } catch {
      return undefined; // not built yet: handle nothing, retry on the next request
    }
    return realRoot;
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q);
    if (mountedAt) {
      if (rawPath === mountedAt) {
        res.writeHead(301, { location: `${mountedAt}/${search}`, 'cache-control': 'no-cache' });
        res.end();
        return true;
      }
      if (!rawPath.startsWith(mountedAt + '/')) return false;
    }
    const below = rawPath.slice(mountedAt.length) || '/';
    const base = siteRoot();
    if (!base) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(below);
    } catch {
      send(res, 400, 'bad request: malformed URL encoding\n');
      return true;
    }
    const found = resolvePath(base, decoded, mountedAt, search);
    switch (found.kind) {
      case 'bad':
        send(res, 400, 'bad request: path not allowed\n');
        return true;
      case 'redirect':
        res.writeHead(301, { location: found.location, 'cache-control': 'no-cache' });
        res.end();
        return true;
      case 'file':
        serveFile(req, res, found.file, found.rel);
        return true;
      case 'missing': {
        if (!options.notFound) return false;
        const page = path.join(base, '404.html');
        if (isFile(page)) serveFile(req, res, page, '404.html', 404);
        else send(res, 404, 'not found\n');
        return true;
      }
    }
  };
}
