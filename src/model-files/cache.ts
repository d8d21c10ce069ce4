import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dataRoot, projectRoot } from '../storage/paths.js';
import type { PinnedFile, PretrainedModel } from './catalog.js';
import { ModelFileChecksumError } from './errors.js';

/**
 * The on-disk layout of pretrained model files, in one place: vendored models under the repository's
 * `models/<folder>/`, downloaded ones under the data folder's `cache/pretrained/<id>/` (installed whole by one
 * rename, so a folder that exists is complete), with a `<id>.partial/` folder beside it while a pull runs.
 */
export const modelFileLayout = {
  cacheRoot: (): string => path.join(dataRoot(), 'cache', 'pretrained'),
  cached: (id: string): string => path.join(modelFileLayout.cacheRoot(), id),
  partial: (id: string): string => path.join(modelFileLayout.cacheRoot(), `${id}.partial`),
  vendored: (model: PretrainedModel): string => path.join(projectRoot(), 'models', model.folder),
};

export type Presence = 'vendored' | 'cached' | 'missing';

/** Where a model's files are on this machine (without reading them), or 'missing' when they must be pulled. */
export async function presenceOf(model: PretrainedModel): Promise<{ presence: Presence; dir: string | null }> {
  if (model.vendored) return { presence: 'vendored', dir: modelFileLayout.vendored(model) };
  const dir = modelFileLayout.cached(model.id);
  try {
    await fs.access(path.join(dir, model.files[0].name));
    return { presence: 'cached', dir };
  } catch {
    return { presence: 'missing', dir: null };
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Check bytes against their pin; a mismatch is a ModelFileChecksumError naming the file and both hashes. */
export function checkPinned(file: PinnedFile, data: Uint8Array, where: string): void {
  const got = sha256(data);
  if (data.byteLength !== file.bytes || got !== file.sha256) {
    throw new ModelFileChecksumError(
      `${where}: ${file.name} does not match the SHA-256 pinned in the source (expected ${file.sha256}, ${file.bytes} bytes; ` +
        `got ${got}, ${data.byteLength} bytes): the file is damaged or not the publisher's`,
    );
  }
}

/** Read every file of a model from `dir` and check each against its pin: name -> bytes. */
export async function readVerified(model: PretrainedModel, dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const file of model.files) {
    const data = await fs.readFile(path.join(dir, file.name));
    checkPinned(file, data, `${model.id} (${dir})`);
    out.set(file.name, data);
  }
  return out;
}

/** Re-check a model's files where they are: the names of the files that are missing or do not match. */
export async function verifyModelFiles(model: PretrainedModel): Promise<{ presence: Presence; dir: string | null; problems: string[] }> {
  const { presence, dir } = await presenceOf(model);
  if (!dir) return { presence, dir, problems: [] };
  const problems: string[] = [];
  for (const file of model.files) {
    try {
      checkPinned(file, await fs.readFile(path.join(dir, file.name)), model.id);
    } catch (err) {
      problems.push(`${file.name}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'does not match its SHA-256'}`);
    }
  }
  return { presence, dir, problems };
}
