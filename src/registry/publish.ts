import fsp from 'node:fs/promises';
import path from 'node:path';
import { savedBackboneLayers, type LayersModelJson } from '../model/io.js';
import type { Log } from '../progress/index.js';
import { S3UnavailableError } from '../storage/s3-client.js';
import { exportVersionOnnx, ONNX_MODEL_FILE, versionOnnxSupport } from './onnx-export.js';
import { getVersion, listVersions, readPromotedPointer } from './registry.js';
import {
  defaultModelsUrl,
  openModelsLocation,
  readRemoteManifest,
  readRemotePointer,
  remoteKeys,
  REMOTE_SCHEMA,
  sha256,
  type ModelsLocation,
  type RemoteFile,
  type RemoteManifest,
  type RemotePointer,
  publishBackboneFiles,
} from './remote.js';

interface RootOpt {
  /** Local registry folder; defaults to paths.registry(). */
  root?: string;
}

export interface PublishedVersion {
  version: number;
  manifestSha256: string;
  /** False when the version was already published with the same files. */
  uploaded: boolean;
  files: number;
}

export interface PublishResult {
  url: string;
  versions: PublishedVersion[];
  /** The pointer now on S3 (null when nothing is promoted locally; a published pointer is then left alone). */
  pointer: RemotePointer | null;
}

/**
 * Upload one version folder (its model files and card.json) to `versions/v<N>/`, then its manifest with every
 * file's size and SHA-256: the manifest goes last, so a reader never sees a half-published version. A version
 * already published with the same files is left as it is; one published with other files (another registry
 * writing to the same prefix) is an error.
 */
export async function publishVersion(loc: ModelsLocation, v: number | string, opts: RootOpt & { log?: Log; onnx?: boolean } = {}): Promise<PublishedVersion> {
  const local = await getVersion(v, opts);
  const names = [...local.card.files.filter((f) => f !== 'card.json'), 'card.json'];
  const files: Array<RemoteFile & { data: Buffer }> = [];
  for (const name of names) {
    const data = await fsp.readFile(path.join(local.dir, ...name.split('/')));
    files.push({ path: name, size: data.length, sha256: sha256(data), data });
  }
  const existing = await readRemoteManifest(loc, local.version);
  if (existing) {
    const same =
      existing.manifest.files.length === files.length &&
      files.every((f) => existing.manifest.files.some((e) => e.path === f.path && e.size === f.size && e.sha256 === f.sha256));
    if (!same) {
      throw new Error(`${loc.url}versions/v${local.version} holds a different model than the local v${local.version} (published from another registry?); publish to another prefix`);
    }
    return { version: local.version, manifestSha256: existing.sha256, uploaded: false, files: files.length };
  }
  const dirKey = remoteKeys.versionDir(loc, local.version);
  const modelJsonFile = files.find((f) => f.path === 'model.json');
  const backbones = modelJsonFile ? savedBackboneLayers(JSON.parse(modelJsonFile.data.toString('utf8')) as LayersModelJson) : [];
  await publishBackboneFiles(loc, backbones.map((b) => b.backbone), opts.log);
  for (const f of files) {
    await loc.store.putObject(loc.bucket, `${dirKey}${f.path}`, f.data, f.path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
  }
  const onnx = opts.onnx === false ? undefined : await publishOnnx(loc, local.version, dirKey, opts);
  const modelJson = files.find((f) => f.path === 'model.json');
  const manifest: RemoteManifest = {
    schema: REMOTE_SCHEMA,
    version: local.version,
    files: files.map(({ path: p, size, sha256: s }) => ({ path: p, size, sha256: s })),
    backbones: modelJson ? savedBackboneLayers(JSON.parse(modelJson.data.toString('utf8')) as LayersModelJson) : [],
    ...(onnx ? { onnx } : {}),
    card: local.card,
    publishedAt: new Date().toISOString(),
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  await loc.store.putObject(loc.bucket, remoteKeys.manifest(loc, local.version), bytes, 'application/json');
  opts.log?.(`published v${local.version} to ${loc.url}versions/v${local.version}/ (${files.length} files)`);
  return { version: local.version, manifestSha256: sha256(bytes), uploaded: true, files: files.length };
}

/**
 * Upload the version's ONNX export (`registry export`, cached by content) beside its files, before the manifest
 * names it; a model whose backbone has no ONNX export is published without one (said in the log).
 */
async function publishOnnx(loc: ModelsLocation, version: number, dirKey: string, opts: RootOpt & { log?: Log }): Promise<RemoteFile | undefined> {
  const support = await versionOnnxSupport(version, opts);
  if (!support.supported) {
    opts.log?.(`v${version}: no ONNX file published (${support.reason})`);
    return undefined;
  }
  const exported = await exportVersionOnnx(version, opts);
  await loc.store.putObject(loc.bucket, `${dirKey}${ONNX_MODEL_FILE}`, Buffer.from(exported.bytes), 'application/octet-stream');
  return { path: ONNX_MODEL_FILE, size: exported.bytes.byteLength, sha256: exported.sha256 };
}

/**
 * Publish versions and then the promotion pointer: `versions` 'promoted' (only the promoted one), 'all' (every
 * local version) or one version. The promoted version is always published before the pointer names it, so
 * promotions and rollbacks alike reach the replicas through this one write.
 */
export async function publishRegistry(
  loc: ModelsLocation,
  opts: RootOpt & { versions?: 'promoted' | 'all' | number | string; log?: Log } = {},
): Promise<PublishResult> {
  await loc.store.ensureBucket(loc.bucket);
  const local = readPromotedPointer(opts);
  const which = opts.versions ?? 'promoted';
  const wanted = new Set<number>();
  if (which === 'all') for (const v of (await listVersions(opts)).versions) wanted.add(v.version);
  else if (which !== 'promoted') wanted.add((await getVersion(which, opts)).version);
  if (local) wanted.add(local.version);
  const versions: PublishedVersion[] = [];
  for (const v of [...wanted].sort((a, b) => a - b)) versions.push(await publishVersion(loc, v, opts));
  if (!local) return { url: loc.url, versions, pointer: null };
  const manifestSha256 = versions.find((p) => p.version === local.version)!.manifestSha256;
  const current = await readRemotePointer(loc).catch(() => null);
  if (current && current.version === local.version && current.manifestSha256 === manifestSha256 && current.decisionId === local.decisionId) {
    return { url: loc.url, versions, pointer: current };
  }
  const pointer: RemotePointer = {
    schema: REMOTE_SCHEMA,
    version: local.version,
    manifestSha256,
    card: local.card,
    promotedAt: local.promotedAt,
    decisionId: local.decisionId,
    publishedAt: new Date().toISOString(),
  };
  await loc.store.putObject(loc.bucket, remoteKeys.pointer(loc), JSON.stringify(pointer, null, 2) + '\n', 'application/json');
  opts.log?.(`published the promotion pointer: ${loc.url}promoted.json names v${local.version}`);
  return { url: loc.url, versions, pointer };
}

/**
 * Publish the promoted version and the pointer to `s3://$AREYOUACAT_S3_BUCKET/models/` when a bucket is configured
 * (after a promotion, a rollback or a deploy); returns null when none is. A failure names the command to run later.
 */
export async function publishIfConfigured(opts: RootOpt & { log?: Log; env?: Record<string, string | undefined> } = {}): Promise<PublishResult | null> {
  const url = defaultModelsUrl(opts.env ?? process.env);
  if (!url) return null;
  const loc = openModelsLocation(url, { connectTimeoutMs: 2000, requestTimeoutMs: 30_000, maxAttempts: 2 });
  try {
    return await publishRegistry(loc, { root: opts.root, log: opts.log });
  } catch (err) {
    const when = err instanceof S3UnavailableError ? 'once S3 is reachable' : 'after fixing that';
    throw new Error(`the local registry is updated, but publishing to ${url} failed: ${(err as Error).message}; run "areyouacat registry publish" ${when}`, { cause: err });
  } finally {
    loc.store.close();
  }
}

/**
 * Make sure one version is published to `s3://$AREYOUACAT_S3_BUCKET/models/` (publish it if not; a version already
 * there with the same files is left alone) and return that URL, or null when no bucket is configured. Prediction
 * jobs for workers on other machines name it, so they never read the coordinator's registry folder.
 */
export async function ensureVersionPublished(version: number, opts: RootOpt & { log?: Log; env?: Record<string, string | undefined> } = {}): Promise<string | null> {
  const url = defaultModelsUrl(opts.env ?? process.env);
  if (!url) return null;
  const loc = openModelsLocation(url, { connectTimeoutMs: 2000, requestTimeoutMs: 30_000, maxAttempts: 2 });
  try {
    await loc.store.ensureBucket(loc.bucket);
    await publishVersion(loc, version, opts);
    return loc.url;
  } finally {
    loc.store.close();
  }
}
