import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheControlFor, contentTypeFor, createStaticSiteHandler } from '../../src/serve/static-site.js';

/** Raw GET (no URL normalisation by a client library, so traversal attempts reach the server as written). */
function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static site handler', () => {
  let tmp: string;
  let site: string;
  const servers: http.Server[] = [];
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-static-'));
    site = path.join(tmp, 'site');
    const files: Record<string, string> = {
      'index.html': '<p>home</p>',
      'registry.html': '<p>registry</p>',
      'runs/index.html': '<p>runs</p>',
      'runs/abc.html': '<p>run abc</p>',
      '404.html': '<p>lost</p>',
      '_observablehq/client.1234abcd.js': 'export {}',
      '_file/data/model-weights.99aa.bin': 'xxxx',
      '_import/style.77.css': 'body{}',
      'with space.json': '{}',
    };
    for (const [rel, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(site, rel)), { recursive: true });
      await fs.writeFile(path.join(site, rel), text);
    }
    await fs.writeFile(path.join(tmp, 'secret.txt'), 'secret');
    await fs.symlink(path.join(tmp, 'secret.txt'), path.join(site, 'link.txt'));
    for (const [name, prefix] of [['root', '/'], ['sub', '/reports']] as const) {
      const handler = createStaticSiteHandler({ root: site, prefix, notFound: name === 'sub' });
      const server = http.createServer((req, res) => {
        if (!handler(req, res)) res.writeHead(418).end('not the site');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      ports[name] = (server.address() as AddressInfo).port;
    }
  });

  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('maps clean URLs to .html pages and folders to their index', async () => {
    expect((await get(ports.root, '/')).body).toBe('<p>home</p>');
    expect((await get(ports.root, '/registry')).body).toBe('<p>registry</p>');
    expect((await get(ports.root, '/registry?x=1')).body).toBe('<p>registry</p>');
    expect((await get(ports.root, '/runs/')).body).toBe('<p>runs</p>');
    expect((await get(ports.root, '/runs/abc')).body).toBe('<p>run abc</p>');
    expect((await get(ports.root, '/with%20space.json')).body).toBe('{}');
    const redirect = await get(ports.root, '/runs?a=b');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/runs/?a=b');
  });

  it('works under a sub-path and leaves other paths to the next handler', async () => {
    expect((await get(ports.sub, '/reports/')).body).toBe('<p>home</p>');
    expect((await get(ports.sub, '/reports/runs/abc')).body).toBe('<p>run abc</p>');
    const bare = await get(ports.sub, '/reports');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/reports/');
    expect((await get(ports.sub, '/registry')).status).toBe(418);
    expect((await get(ports.sub, '/reportsx/registry')).status).toBe(418);
    expect((await get(ports.sub, '/api/health')).status).toBe(418);
    const missing = await get(ports.sub, '/reports/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('<p>lost</p>');
    // Without notFound, unknown paths are not taken.
    expect((await get(ports.root, '/nope')).status).toBe(418);
    // Only GET and HEAD are served.
    expect((await get(ports.root, '/', {}, 'POST')).status).toBe(418);
    const head = await get(ports.root, '/registry', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('<p>registry</p>'.length));
  });

  it('refuses path traversal, encoded or not, and symlinks out of the site', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/runs/%2E%2E/%2E%2E/secret.txt', '/..%2fsecret.txt', '/%5c..%5csecret.txt', '/a%00b']) {
      const res = await get(ports.root, p);
      expect([400, 418], p).toContain(res.status);
      expect(res.body, p).not.toContain('secret');
    }
    expect((await get(ports.sub, '/reports/%2e%2e/%2e%2e/secret.txt')).status).toBe(400);
    expect((await get(ports.root, '/%E0%A4%A')).status).toBe(400);
    const link = await get(ports.root, '/link.txt');
    expect(link.status).toBe(400);
    expect(link.body).not.toContain('secret');
  });

  it('sends content types, immutable caching for hashed assets, and answers revalidation with 304', async () => {
    const page = await get(ports.root, '/registry');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    const js = await get(ports.root, '/_observablehq/client.1234abcd.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(ports.root, '/_import/style.77.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(ports.root, '/_file/data/model-weights.99aa.bin')).headers['content-type']).toBe('application/octet-stream');
    const again = await get(ports.root, '/registry', { 'if-none-match': page.headers.etag! });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('names content types and cache policies by file', () => {
    expect(contentTypeFor('a/b.wasm')).toBe('application/wasm');
    expect(contentTypeFor('x.JSON')).toBe('application/json; charset=utf-8');
    expect(contentTypeFor('x.unknown')).toBe('application/octet-stream');
    expect(cacheControlFor('_npm/vega@6/index.js')).toContain('immutable');
    expect(cacheControlFor('runs/abc.html')).toBe('no-cache');
  });
});
