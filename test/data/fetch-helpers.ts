import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tar from 'tar';
import yazl from 'yazl';

export interface ServedRequest {
  path: string;
  range?: string;
  status: number;
  bytesSent: number;
}

export interface FileServer {
  url(p: string): string;
  files: Map<string, Buffer>;
  log: ServedRequest[];
  /** Cut the connection of the next `count` responses after `bytes` body bytes. */
  cutNext(bytes: number, count?: number): void;
  close(): Promise<void>;
}

/** A small HTTP file server with Range support and a way to drop connections mid-body. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const log: ServedRequest[] = [];
  let cut: { bytes: number; count: number } | undefined;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const body = files.get(p);
    const entry: ServedRequest = { path: p, range: req.headers.range, status: 200, bytesSent: 0 };
    log.push(entry);
    if (!body) {
      entry.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      entry.status = 206;
      res.writeHead(206, {
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'content-length': body.length - start,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    const rest = body.subarray(start);
    if (cut && cut.count > 0) {
      cut.count--;
      const part = rest.subarray(0, cut.bytes);
      entry.bytesSent = part.length;
      res.write(part, () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    entry.bytesSent = rest.length;
    res.end(rest);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    files,
    log,
    cutNext(bytes, count = 1) {
      cut = { bytes, count };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A JPEG of noise (hard to compress, so archives have some size). */
export async function noiseJpeg(size: number, seed: number): Promise<Buffer> {
  const px = Buffer.alloc(size * size * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < px.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    px[i] = x >>> 24;
  }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

/** Build a .tar.gz holding `files` (member path -> content). */
export async function makeTarGz(files: Record<string, Buffer | string>): Promise<Buffer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-tar-'));
  try {
    for (const [p, body] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(dir, p)), { recursive: true });
      await fs.writeFile(path.join(dir, p), body);
    }
    const out = path.join(dir, '..', `${path.basename(dir)}.tar.gz`);
    await tar.c({ gzip: true, file: out, cwd: dir, portable: true }, Object.keys(files));
    const buf = await fs.readFile(out);
    await fs.rm(out, { force: true });
    return buf;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Build a .zip holding `files`. */
export async function makeZip(files: Record<string, Buffer | string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [p, body] of Object.entries(files)) zip.addBuffer(Buffer.isBuffer(body) ? body : Buffer.from(body), p);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
