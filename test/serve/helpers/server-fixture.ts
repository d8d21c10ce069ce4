import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ServeOptions } from '../../../src/serve/server.js';

/** Point AREYOUACAT_HOME at a fresh temp folder; returns a function that removes it and restores the old value. */
export async function useTempHome(tag: string): Promise<{ home: string; restore: () => Promise<void> }> {
  const old = process.env.AREYOUACAT_HOME;
  const home = await fs.mkdtemp(path.join(os.tmpdir(), `ayac-${tag}-`));
  process.env.AREYOUACAT_HOME = home;
  return {
    home,
    restore: async () => {
      if (old === undefined) delete process.env.AREYOUACAT_HOME;
      else process.env.AREYOUACAT_HOME = old;
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Send a request with full control over headers and body bytes. `body` may be shorter than a declared
 * content-length; `endEarly` then closes the socket after writing it (a truncated upload).
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; endEarly?: boolean; sendBody?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.sendBody === false) {
      req.flushHeaders();
      return;
    }
    if (options.endEarly) {
      // Cut the connection once the partial body has been handed to the socket.
      req.write(options.body ?? Buffer.alloc(0), () => req.destroy());
      return;
    }
    if (options.body) req.write(options.body);
    req.end();
  });
}

export function form(parts: Record<string, string | { data: Buffer; filename: string; type: string }>): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(parts)) {
    if (typeof v === 'string') fd.append(k, v);
    else fd.append(k, new Blob([new Uint8Array(v.data)], { type: v.type }), v.filename);
  }
  return fd;
}

/**
 * The options a test server starts with: any free port, the API only, the test's S3, no rate limit and no
 * metric snapshots on disk; `more` adds or overrides settings.
 */
export function testServerOptions(s3: { store: NonNullable<ServeOptions['s3']>['store']; bucket: string }, more: ServeOptions = {}): ServeOptions {
  return { port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, ...more };
}
