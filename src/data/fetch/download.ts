import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { exists, readJson, writeJsonAtomic } from '../../storage/atomic.js';
import type { Progress } from '../../progress/index.js';

export interface FileHashes {
  sha256: string;
  md5: string;
  bytes: number;
}

export interface DownloadOptions {
  /** Checksums the finished file must have (any subset). */
  sha256?: string;
  md5?: string;
  /** Size hint for progress until the server reports one. */
  bytes?: number;
  onProgress?: Progress;
  signal?: AbortSignal;
}

export interface DownloadResult extends FileHashes {
  file: string;
  /** True when part of the file came from an earlier, interrupted download. */
  resumed: boolean;
  /** True when the file was already complete and verified: nothing was downloaded. */
  cached: boolean;
}

/** Identity of a half-downloaded file, so that a resume only continues the same resource. */
interface PartInfo {
  url: string;
  etag?: string;
  lastModified?: string;
}

export async function hashFile(file: string): Promise<FileHashes> {
  const sha = crypto.createHash('sha256');
  const md5 = crypto.createHash('md5');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    sha.update(chunk as Buffer);
    md5.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), bytes };
}

/** The first checksum that does not match, as a message; undefined when all given ones match. */
export function checksumMismatch(h: FileHashes, expected: { sha256?: string; md5?: string }): string | undefined {
  if (expected.sha256 && expected.sha256.toLowerCase() !== h.sha256) {
    return `expected sha256 ${expected.sha256.toLowerCase()}, got ${h.sha256}`;
  }
  if (expected.md5 && expected.md5.toLowerCase() !== h.md5) return `expected md5 ${expected.md5.toLowerCase()}, got ${h.md5}`;
  return undefined;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

async function removePart(part: string): Promise<void> {
  await fsp.rm(part, { force: true });
  await fsp.rm(`${part}.json`, { force: true });
}

/**
 * Download `url` to `dest`. Bytes land in `dest.part` first; an interrupted download is resumed with an HTTP
 * Range request (guarded by If-Range on the ETag/Last-Modified seen before, so a changed file restarts).
 * The finished file is checked against the given checksums; when a resumed file fails the check the
 * partial data is thrown away and the download restarts once from zero; a fresh download that fails the
 * check is deleted and reported. `dest` only ever appears complete and verified.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  if (await exists(dest)) {
    const h = await hashFile(dest);
    if (!checksumMismatch(h, opts)) return { ...h, file: dest, resumed: false, cached: true };
    await fsp.rm(dest, { force: true }); // stale or damaged: fetch again
  }
  const part = `${dest}.part`;
  let resumedAny = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    const resumed = await transfer(url, part, opts);
    resumedAny ||= resumed;
    const h = await hashFile(part);
    const bad = checksumMismatch(h, opts);
    if (!bad) {
      await fsp.rename(part, dest);
      await fsp.rm(`${part}.json`, { force: true });
      return { ...h, file: dest, resumed: resumedAny, cached: false };
    }
    await removePart(part);
    if (!resumed) throw new Error(`download of ${url} is damaged or not the expected file: ${bad}; it was deleted`);
    // The earlier partial data did not belong to this file: start over once.
  }
  throw new Error(`download of ${url} failed its checksum twice; it was deleted`);
}

/** GET with redirects followed (up to 5), as a raw response stream. */
function request(url: string, headers: Record<string, string>, signal?: AbortSignal, hops = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`"${url}" is not a URL`));
      return;
    }
    const get = u.protocol === 'https:' ? https.get : u.protocol === 'http:' ? http.get : undefined;
    if (!get) {
      reject(new Error(`cannot download ${url}: only http and https URLs are supported`));
      return;
    }
    const req = get(u, { headers, signal, timeout: 30_000 }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.resume();
        if (hops >= 5) reject(new Error(`cannot download ${url}: too many redirects`));
        else request(new URL(location, u).toString(), headers, signal, hops + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within 30 s'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot download ${url}: ${err.code ?? err.message}`)));
  });
}

/** Fetch the missing bytes of `part`. Returns true when it continued earlier data. */
async function transfer(url: string, part: string, opts: DownloadOptions): Promise<boolean> {
  let have = await fileSize(part);
  let info: PartInfo | undefined;
  if (have > 0) {
    info = await readJson<PartInfo>(`${part}.json`).catch(() => undefined);
    if (!info || info.url !== url) {
      await removePart(part);
      have = 0;
    }
  }
  const headers: Record<string, string> = { 'user-agent': 'areyouacat-data-fetch' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    const validator = info?.etag && !info.etag.startsWith('W/') ? info.etag : info?.lastModified;
    if (validator) headers['if-range'] = validator;
  }
  const res = await request(url, headers, opts.signal);
  const status = res.statusCode ?? 0;
  if (status === 416 && have > 0) {
    // The partial file is at least as long as the resource: it is complete (or junk); the checksum decides.
    res.resume();
    return true;
  }
  let append = false;
  if (status === 206 && have > 0) {
    const range = String(res.headers['content-range'] ?? '');
    if (Number(/^bytes (\d+)-/.exec(range)?.[1]) !== have) {
      res.resume();
      throw new Error(`cannot resume ${url}: server answered range "${range}" for byte ${have}`);
    }
    append = true;
  } else if (status !== 200) {
    res.resume();
    throw new Error(`cannot download ${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim());
  }
  if (!append) have = 0;
  // Written while the body streams: awaiting here first could miss the end of a short or broken response.
  const infoWritten = append
    ? Promise.resolve()
    : writeJsonAtomic(`${part}.json`, {
        url,
        etag: res.headers.etag,
        lastModified: res.headers['last-modified'],
      } satisfies PartInfo);
  const length = Number(res.headers['content-length'] ?? NaN);
  const total = Number.isFinite(length) ? have + length : (opts.bytes ?? 0);
  let done = have;
  opts.onProgress?.(done, total, 'download');
  // Every byte received reaches the disk even when the connection breaks, so that a resume can continue.
  const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
  // A failed local write is thrown as it is; a broken connection becomes "interrupted, run again to resume".
  let writeFailure: Error | undefined;
  const failure = await new Promise<Error | undefined>((resolve) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      out.end(() => resolve(err));
    };
    out.on('error', (err) => {
      settled = true;
      res.destroy();
      writeFailure = new Error(`cannot write ${part}: ${err.message}`);
      resolve(writeFailure);
    });
    res.on('data', (chunk: Buffer) => {
      if (!out.write(chunk)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
      done += chunk.length;
      opts.onProgress?.(done, Math.max(total, done), 'download');
    });
    res.on('end', () => finish());
    res.on('aborted', () => finish(new Error('connection closed')));
    res.on('error', (err) => finish(err));
    res.on('close', () => finish(res.complete ? undefined : new Error('connection closed')));
  });
  await infoWritten;
  if (failure && failure === writeFailure) throw failure;
  if (failure || (Number.isFinite(length) && done !== have + length)) {
    const why = failure?.message ?? `ended after ${done} of ${have + length} bytes`;
    throw new Error(`download of ${url} was interrupted after ${done} bytes (${why}); run again to resume`);
  }
  return append;
}
