import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { S3Store, S3UnavailableError, type S3ClientOptions } from '../storage/s3-client.js';
import { parseS3Url, S3_ENV } from '../storage/s3-config.js';
import type { SavedBackboneLayer } from '../model/io.js';
import { ensureModelFiles, installModelFiles, PRETRAINED_MODELS, readVerified } from '../model-files/index.js';
import { REGISTRY_SCHEMA, type ModelCard, type PromotedModel } from './types.js';

/**
 * Published models on S3, the registry's remote copy. Layout under `s3://bucket/prefix/`:
 *
 *   versions/v3/model.json, *.bin, card.json   the files of a version folder, as in the local registry
 *   versions/v3/model.onnx                     the whole model as ONNX (`registry export`), when it can be exported
 *   versions/v3/manifest.json                  RemoteManifest: every file's size and SHA-256; written LAST
 *   promoted.json                              RemotePointer: the promoted version and its manifest's SHA-256
 *
 * A version without a manifest is not published (yet): readers start from promoted.json, which names a version only
 * after its manifest was written, and they check the manifest against the pointer's checksum and every file
 * against the manifest. Only the registry's writer (publish.ts) writes here.
 */
export const REMOTE_SCHEMA = 1;

/** The default models prefix under AREYOUACAT_S3_BUCKET. */
export const DEFAULT_MODELS_PREFIX = 'models/';

export interface RemoteFile {
  /** Relative to the version folder, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
}

/** The pretrained backbone a model is built on (its weights ship with the checkout, not with the bundle). */
export type BackboneReference = SavedBackboneLayer;

/** `versions/v<N>/manifest.json`. */
export interface RemoteManifest {
  schema: typeof REMOTE_SCHEMA;
  version: number;
  files: RemoteFile[];
  backbones: BackboneReference[];
  /**
   * The whole model as one ONNX file beside the bundle (RGB 0..255 NHWC pixels in, p_cat out; see
   * `src/model/onnx-model.ts`), for runtimes that load ONNX directly. Absent when the model's backbone has no ONNX
   * export or the version was published before. Not part of `files`: replicas do not need it.
   */
  onnx?: RemoteFile;
  card: ModelCard;
  publishedAt: string;
}

/** `promoted.json` on S3. */
export interface RemotePointer {
  schema: typeof REMOTE_SCHEMA;
  version: number;
  /** SHA-256 of the version's manifest.json bytes. */
  manifestSha256: string;
  card: ModelCard;
  /** From the local pointer: when and by which decision the version was promoted (or rolled back to). */
  promotedAt: string;
  decisionId: string;
  publishedAt: string;
}

/** Where published models live: a bucket and a prefix ('' or ending in '/'), over one store. */
export interface ModelsLocation {
  store: S3Store;
  bucket: string;
  prefix: string;
  /** `s3://bucket/prefix` for messages. */
  url: string;
}

/** `s3://bucket/prefix` split and normalised (prefix '' or ending in '/'). */
export function parseModelsUrl(url: string): { bucket: string; prefix: string; url: string } {
  const { bucket, prefix } = parseS3Url(url);
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return { bucket, prefix: p, url: `s3://${bucket}/${p}` };
}

/** `s3://$AREYOUACAT_S3_BUCKET/models/` when a bucket is configured, else null (nothing to publish to). */
export function defaultModelsUrl(env: Record<string, string | undefined> = process.env): string | null {
  const bucket = env[S3_ENV.bucket];
  return bucket ? `s3://${bucket}/${DEFAULT_MODELS_PREFIX}` : null;
}

/** A location over a store configured from AREYOUACAT_S3_* (the URL names the bucket). Close `store` when done. */
export function openModelsLocation(url: string, options: S3ClientOptions = {}): ModelsLocation {
  const parsed = parseModelsUrl(url);
  return { ...parsed, store: S3Store.fromEnv({ bucket: parsed.bucket }, options) };
}

export const remoteKeys = {
  pointer: (loc: ModelsLocation) => `${loc.prefix}promoted.json`,
  versionDir: (loc: ModelsLocation, version: number) => `${loc.prefix}versions/v${version}/`,
  manifest: (loc: ModelsLocation, version: number) => `${loc.prefix}versions/v${version}/manifest.json`,
  /** The verified files of a downloaded backbone a published model needs, so a replica needs no internet. */
  backboneFile: (loc: ModelsLocation, id: string, file: string) => `${loc.prefix}backbones/${id}/${file}`,
  backboneComplete: (loc: ModelsLocation, id: string) => `${loc.prefix}backbones/${id}/complete.json`,
};

/** Put the files of every downloaded (not vendored) backbone a model needs beside the bundles, once, marker last. */
export async function publishBackboneFiles(loc: ModelsLocation, backbones: readonly string[], log?: (line: string) => void): Promise<void> {
  for (const id of new Set(backbones)) {
    const model = PRETRAINED_MODELS.find((m) => m.id === id);
    if (!model || model.vendored) continue;
    if (await getObjectOrNull(loc, remoteKeys.backboneComplete(loc, id))) continue;
    const files = await readVerified(model, await ensureModelFiles(id));
    for (const f of model.files) await loc.store.putObject(loc.bucket, remoteKeys.backboneFile(loc, id, f.name), files.get(f.name)!, 'application/octet-stream');
    await loc.store.putObject(loc.bucket, remoteKeys.backboneComplete(loc, id), JSON.stringify({ id, files: model.files }, null, 2) + '\n', 'application/json');
    log?.(`published the ${id} backbone's ${model.files.length} files to ${loc.url}backbones/${id}/`);
  }
}

/** Install the backbones a downloaded model needs from the copies beside the bundles (verified against the pins). */
export async function installPublishedBackbones(loc: ModelsLocation, backbones: readonly string[]): Promise<void> {
  for (const id of new Set(backbones)) {
    const model = PRETRAINED_MODELS.find((m) => m.id === id);
    if (!model || model.vendored) continue;
    await installModelFiles(id, (f) => loc.store.getObject(loc.bucket, remoteKeys.backboneFile(loc, id, f.name)), `${loc.url}backbones/${id}`);
  }
}

export const MANIFEST_FILE = 'manifest.json';

export function sha256(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function isMissing(err: unknown): boolean {
  return (err as { code?: string }).code === 'ENOENT';
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

/** An object's bytes, or null when there is no such object (other failures are thrown). */
async function getObjectOrNull(loc: ModelsLocation, key: string): Promise<Buffer | null> {
  try {
    return await loc.store.getObject(loc.bucket, key);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** The published promotion pointer, or null when none was published. */
export async function readRemotePointer(loc: ModelsLocation): Promise<RemotePointer | null> {
  const key = remoteKeys.pointer(loc);
  const bytes = await getObjectOrNull(loc, key);
  if (!bytes) return null;
  const p = parseJson<RemotePointer>(bytes, `s3://${loc.bucket}/${key}`);
  if (!p || !Number.isInteger(p.version) || typeof p.manifestSha256 !== 'string' || !p.card || p.card.version !== p.version) {
    throw new Error(`s3://${loc.bucket}/${key} does not describe a promoted model (version, manifestSha256 and card expected)`);
  }
  return p;
}

/**
 * A published version's manifest and its checksum, or null when the version is not (completely) published: the
 * manifest is written last, so files without one are a publish in progress or an interrupted one.
 */
export async function readRemoteManifest(loc: ModelsLocation, version: number): Promise<{ manifest: RemoteManifest; sha256: string } | null> {
  const key = remoteKeys.manifest(loc, version);
  const bytes = await getObjectOrNull(loc, key);
  if (!bytes) return null;
  const manifest = parseJson<RemoteManifest>(bytes, `s3://${loc.bucket}/${key}`);
  if (!manifest || manifest.version !== version || !Array.isArray(manifest.files)) {
    throw new Error(`s3://${loc.bucket}/${key} is not the manifest of v${version}`);
  }
  return { manifest, sha256: sha256(bytes) };
}

/** The versions with a manifest (completely published), in ascending order. */
export async function listRemoteVersions(loc: ModelsLocation): Promise<number[]> {
  const objects = await loc.store.listKeys(loc.bucket, `${loc.prefix}versions/`);
  const re = new RegExp(`^${loc.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}versions/v(\\d+)/${MANIFEST_FILE}$`);
  return objects
    .map((o) => re.exec(o.key))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

function safeRelativePath(p: string): boolean {
  return typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '' || s === '.');
}

/**
 * Download the version a pointer names into `cacheDir/v<N>-<checksum>` and return it as a local PromotedModel.
 * The manifest must match the pointer's checksum and every file its manifest entry (size and SHA-256); the files go
 * to a temp folder that is renamed into place once all are verified, so the cache never holds a partial version.
 * A version already in the cache is not downloaded again.
 */
export async function downloadRemoteVersion(loc: ModelsLocation, pointer: Pick<RemotePointer, 'version' | 'manifestSha256'> & Partial<RemotePointer>, cacheDir: string): Promise<PromotedModel> {
  const where = `${loc.url}versions/v${pointer.version}`;
  const dir = path.join(cacheDir, `v${pointer.version}-${pointer.manifestSha256.slice(0, 16)}`);
  if (fs.existsSync(path.join(dir, 'card.json'))) {
    // Used again (a rollback): newest for pruneModelCache, which keeps the most recently used versions.
    const now = new Date();
    await fsp.utimes(dir, now, now).catch(() => {});
    return localModel(dir, pointer.version);
  }
  const found = await readRemoteManifest(loc, pointer.version);
  if (!found) throw new Error(`${where} has no manifest: the promoted version is not published completely`);
  if (found.sha256 !== pointer.manifestSha256) {
    throw new Error(`${where}/manifest.json has SHA-256 ${found.sha256.slice(0, 12)}..., the pointer names ${pointer.manifestSha256.slice(0, 12)}...`);
  }
  const { manifest } = found;
  if (!manifest.files.some((f) => f.path === 'card.json')) throw new Error(`${where}: the manifest lists no card.json`);
  await fsp.mkdir(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const f of manifest.files) {
      if (!safeRelativePath(f.path)) throw new Error(`${where}: the manifest names an unsafe path "${f.path}"`);
      const data = await loc.store.getObject(loc.bucket, `${remoteKeys.versionDir(loc, pointer.version)}${f.path}`);
      if (data.length !== f.size || sha256(data) !== f.sha256) {
        throw new Error(`${where}/${f.path} does not match its manifest (size ${data.length}, expected ${f.size}; checksum ${sha256(data) === f.sha256 ? 'ok' : 'differs'})`);
      }
      const file = path.join(tmp, ...f.path.split('/'));
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, data);
    }
    // The backbone files the model needs, from beside the bundles: a replica loads it without internet.
    await installPublishedBackbones(loc, (manifest.backbones ?? []).map((b) => b.backbone));
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      // Another process of the same data folder got there first: its copy is as verified as ours.
      if (!fs.existsSync(path.join(dir, 'card.json'))) throw err;
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return localModel(dir, pointer.version);
}

/**
 * Download one published version (not necessarily the promoted one) into `cacheDir`, verified like the promoted
 * one: what a prediction-shard worker does for the version its job names. Throws when it is not published.
 */
export async function downloadPublishedVersion(loc: ModelsLocation, version: number, cacheDir: string): Promise<PromotedModel> {
  const found = await readRemoteManifest(loc, version);
  if (!found) throw new Error(`${loc.url}versions/v${version} is not published (no manifest); run "areyouacat registry publish ${version}" on the coordinator`);
  return downloadRemoteVersion(loc, { version, manifestSha256: found.sha256 }, cacheDir);
}

async function localModel(dir: string, version: number): Promise<PromotedModel> {
  const card = JSON.parse(await fsp.readFile(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
  if (card.schema !== REGISTRY_SCHEMA || card.version !== version) throw new Error(`${dir}/card.json is not the card of v${version}`);
  return { version, dir, card };
}

/** How the replica's model source looks, for /api/health. */
export interface ModelSourceStatus {
  /** The S3 URL the models come from. */
  url: string;
  /** 'ok' after a successful read, 'unavailable' while S3 cannot be reached, 'invalid' when what it holds is unusable. */
  state: 'unknown' | 'ok' | 'unavailable' | 'invalid';
  /** The published promoted version last seen. */
  version: number | null;
  lastError: string | null;
  /** When the last successful read was (ISO time). */
  lastOkAt: string | null;
  /** While failing: when S3 is asked again. */
  nextAttemptAt: string | null;
}

/**
 * Remove downloaded versions from `cacheDir` beyond the `keep` most recently used ones (never `inUse`), so a
 * replica that follows promotions for months does not fill its disk. Leftover temp folders of a killed download go
 * too. Returns the folders removed.
 */
export async function pruneModelCache(cacheDir: string, keep: number, inUse: string): Promise<string[]> {
  const names = await fsp.readdir(cacheDir).catch(() => [] as string[]);
  const versions: Array<{ dir: string; at: number }> = [];
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(cacheDir, name);
    if (name.startsWith('.tmp-')) {
      // Another live process's download in progress has a recent folder: only old ones are left over.
      const st = await fsp.stat(dir).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 3_600_000) {
        await fsp.rm(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    } else if (/^v\d+-[0-9a-f]+$/.test(name) && path.resolve(dir) !== path.resolve(inUse)) {
      const st = await fsp.stat(dir).catch(() => null);
      if (st) versions.push({ dir, at: st.mtimeMs });
    }
  }
  versions.sort((a, b) => b.at - a.at);
  for (const { dir } of versions.slice(Math.max(0, keep - 1))) {
    await fsp.rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

export interface RemotePromotedOptions {
  /** Where downloaded versions are kept. */
  cacheDir: string;
  /** Downloaded versions kept in `cacheDir`, the one in use included (default 3: a rollback needs no download). */
  keepVersions?: number;
  /** First wait after a failed read; doubles up to maxRetryMs (defaults 2000 and 30000). */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * `readPromoted` for a replica: reads the published pointer, downloads (once) and verifies the version it names, and
 * returns it as a local PromotedModel for the ModelHolder. After a failure the same error is given back without
 * asking S3 until the backoff has passed, so the holder's poll does not hammer an unreachable endpoint; the model
 * being served stays (the holder keeps it while readPromoted fails).
 */
export class RemotePromotedReader {
  private cached: { key: string; model: PromotedModel } | null = null;
  private failure: { error: Error; attempts: number; retryAt: number } | null = null;
  private info: ModelSourceStatus;

  constructor(
    private readonly loc: ModelsLocation,
    private readonly options: RemotePromotedOptions,
  ) {
    this.info = { url: loc.url, state: 'unknown', version: null, lastError: null, lastOkAt: null, nextAttemptAt: null };
  }

  status(): ModelSourceStatus {
    return { ...this.info };
  }

  readonly read = async (): Promise<PromotedModel | null> => {
    if (this.failure && Date.now() < this.failure.retryAt) throw this.failure.error;
    try {
      const pointer = await readRemotePointer(this.loc);
      let model: PromotedModel | null = null;
      if (pointer) {
        const key = `${pointer.version}:${pointer.manifestSha256}`;
        if (this.cached?.key !== key) {
          this.cached = { key, model: await downloadRemoteVersion(this.loc, pointer, this.options.cacheDir) };
          await pruneModelCache(this.options.cacheDir, this.options.keepVersions ?? 3, this.cached.model.dir);
        }
        model = this.cached.model;
      }
      this.failure = null;
      this.info = { ...this.info, state: 'ok', version: pointer?.version ?? null, lastError: null, lastOkAt: new Date().toISOString(), nextAttemptAt: null };
      return model;
    } catch (err) {
      const attempts = (this.failure?.attempts ?? 0) + 1;
      const wait = Math.min(this.options.maxRetryMs ?? 30_000, (this.options.retryMs ?? 2000) * 2 ** (attempts - 1));
      const error = new Error(`model source ${this.loc.url}: ${(err as Error).message}`, { cause: err });
      // The same message while the same fault lasts, so the holder reports it once.
      const sameFault = this.failure && this.failure.error.message === error.message;
      this.failure = { error: sameFault ? this.failure!.error : error, attempts, retryAt: Date.now() + wait };
      this.info = {
        ...this.info,
        state: err instanceof S3UnavailableError ? 'unavailable' : 'invalid',
        lastError: error.message,
        nextAttemptAt: new Date(this.failure.retryAt).toISOString(),
      };
      throw this.failure.error;
    }
  };
}
