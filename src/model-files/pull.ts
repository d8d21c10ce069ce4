import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Log, Progress } from '../progress/index.js';
import { checkPinned, modelFileLayout, presenceOf, readVerified, sha256 } from './cache.js';
import { pretrainedModel, totalBytes, type PinnedFile, type PretrainedModel } from './catalog.js';
import { ModelFileChecksumError, ModelFilesUnavailableError } from './errors.js';

export const MODEL_MIRROR_ENV = 'AREYOUACAT_MODEL_MIRROR';

export interface PullOptions {
  /** A folder, or an http(s) prefix, holding `<folder>/<file>` for every model; default AREYOUACAT_MODEL_MIRROR, else the publisher. */
  mirror?: string;
  /** Give up on a connection that sends no answer, or stops sending, for this long (default 20 s). */
  stallMs?: number;
  /** Download again even when the cache has the files. */
  force?: boolean;
  onProgress?: Progress;
  log?: Log;
}

/** Where a file comes from: a path on disk or a URL. */
function sourceOf(model: PretrainedModel, file: PinnedFile, mirror: string | undefined): string {
  if (mirror) {
    if (/^https?:\/\//i.test(mirror)) return `${mirror.replace(/\/+$/, '')}/${model.folder}/${file.name}`;
    return path.join(path.resolve(mirror), model.folder, file.name);
  }
  if (!model.publisher) throw new ModelFilesUnavailableError(`${model.id} has no download address`);
  return model.publisher + file.name;
}

function unavailable(model: PretrainedModel, reason: string): ModelFilesUnavailableError {
  return new ModelFilesUnavailableError(
    `the ${model.id} backbone's files are not in this data folder's model cache and could not be fetched (${reason}). ` +
      `Run \`areyouacat models pull ${model.id}\` where the publisher is reachable, or set ${MODEL_MIRROR_ENV} to a folder or ` +
      `http(s) prefix holding ${model.folder}/ (an internal mirror), or train offline with \`--backbone coco-centernet\` (vendored in the repository).`,
  );
}

/** Download one URL into `target`, hashing as it goes; every wait is bounded by `stallMs`. */
async function download(url: string, target: string, file: PinnedFile, stallMs: number, onBytes: (n: number) => void): Promise<void> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error(`no answer within ${stallMs} ms`)), stallMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`the download stalled for ${stallMs} ms`)), stallMs);
  };
  try {
    const res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${url}`);
    const hash = createHash('sha256');
    const out = createWriteStream(target);
    let bytes = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rearm();
        bytes += chunk.byteLength;
        if (bytes > file.bytes) throw new ModelFileChecksumError(`${url}: more than the ${file.bytes} bytes pinned for ${file.name}`);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        onBytes(chunk.byteLength);
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    const got = hash.digest('hex');
    if (bytes !== file.bytes || got !== file.sha256) {
      throw new ModelFileChecksumError(`${url}: ${file.name} does not match the SHA-256 pinned in the source (expected ${file.sha256}, got ${got}, ${bytes} bytes)`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Copy a file from a mirror folder, checked against its pin. */
async function copyFromFolder(source: string, target: string, file: PinnedFile): Promise<void> {
  const data = await fs.readFile(source);
  checkPinned(file, data, source);
  await fs.writeFile(target, data);
}

async function alreadyGood(file: PinnedFile, target: string): Promise<boolean> {
  try {
    return sha256(await fs.readFile(target)) === file.sha256;
  } catch {
    return false;
  }
}

/**
 * Fetch a model's files into the data folder's model cache: from AREYOUACAT_MODEL_MIRROR (a folder or an http(s)
 * prefix) when set, else from the publisher. Every file is checked against the SHA-256 pinned in the source
 * before it is kept; files land in `<id>.partial/`, which becomes `<id>/` by one rename when all are there, so a
 * partial or corrupt download is never used. A second pull after an interruption keeps the files already
 * verified and fetches the rest. Returns the folder that holds the files.
 */
export async function pullModelFiles(id: string, options: PullOptions = {}): Promise<string> {
  const model = pretrainedModel(id);
  const { presence, dir } = await presenceOf(model);
  if (presence === 'vendored') return dir!;
  if (presence === 'cached' && !options.force) return dir!;
  try {
    return await pullInto(model, options);
  } catch (err) {
    // Processes of one data folder pull at the same time (the workers of a fresh pool): when another one installed
    // the files meanwhile (by its one rename, so complete), theirs are the answer.
    if (!options.force && (await presenceOf(model)).presence === 'cached') return modelFileLayout.cached(model.id);
    throw err;
  }
}

async function pullInto(model: PretrainedModel, options: PullOptions): Promise<string> {
  const mirror = options.mirror ?? (process.env[MODEL_MIRROR_ENV] || undefined);
  const stallMs = options.stallMs ?? 20_000;
  const partial = modelFileLayout.partial(model.id);
  await fs.mkdir(partial, { recursive: true });
  const total = totalBytes(model);
  let done = 0;
  const from = mirror ?? model.publisher!;
  options.log?.(`pulling ${model.id} (${(total / 1e6).toFixed(1)} MB, ${model.files.length} files) from ${from}`);
  for (const file of model.files) {
    const target = path.join(partial, file.name);
    if (await alreadyGood(file, target)) {
      done += file.bytes;
      options.onProgress?.(done, total, `${model.id}: ${file.name} (kept)`);
      continue;
    }
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.download`; // unique among threads of one process too
    const source = sourceOf(model, file, mirror);
    try {
      if (/^https?:\/\//i.test(source)) {
        await download(source, temp, file, stallMs, (n) => {
          done += n;
          options.onProgress?.(done, total, `${model.id}: ${file.name}`);
        });
      } else {
        await copyFromFolder(source, temp, file);
        done += file.bytes;
        options.onProgress?.(done, total, `${model.id}: ${file.name}`);
      }
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (err instanceof ModelFileChecksumError) throw err;
      const e = err as NodeJS.ErrnoException & { cause?: { message?: string; code?: string } };
      const reason = e.code === 'ENOENT' ? `${source} does not exist` : `${source}: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
      throw unavailable(model, reason);
    }
  }
  const dest = modelFileLayout.cached(model.id);
  await readVerified(model, partial); // every file, once more, before the folder becomes visible
  if (options.force) await fs.rm(dest, { recursive: true, force: true });
  try {
    await fs.rename(partial, dest);
  } catch (err) {
    // another process installed it first: theirs is complete (installed by the same rename)
    if ((await presenceOf(model)).presence !== 'cached') throw err;
    await fs.rm(partial, { recursive: true, force: true });
  }
  options.log?.(`${model.id}: ${model.files.length} files verified and installed in ${dest}`);
  return dest;
}

/**
 * The folder with a model's verified files: vendored, cached, or pulled now (the first use that needs them).
 * Without a reachable source this fails within seconds with a ModelFilesUnavailableError that names the pull
 * command, the mirror setting and the offline alternative; it never switches to another backbone.
 */
export async function ensureModelFiles(id: string, options: PullOptions = {}): Promise<string> {
  return pullModelFiles(id, { ...options, force: false });
}
