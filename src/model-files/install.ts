import fs from 'node:fs/promises';
import path from 'node:path';
import { checkPinned, modelFileLayout, presenceOf, readVerified } from './cache.js';
import { pretrainedModel, type PinnedFile } from './catalog.js';

/**
 * Install a model's files into the data folder's model cache from any reader (e.g. the copies a published bundle
 * carries on S3), each checked against its SHA-256 pin before it is kept, the folder made visible by one rename.
 * Nothing happens when the files are already cached or vendored. Returns the folder.
 */
export async function installModelFiles(id: string, read: (file: PinnedFile) => Promise<Uint8Array>, where: string): Promise<string> {
  const model = pretrainedModel(id);
  const { presence, dir } = await presenceOf(model);
  if (presence !== 'missing') return dir!;
  const partial = `${modelFileLayout.partial(id)}-${process.pid}`;
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { recursive: true });
  try {
    for (const file of model.files) {
      const data = await read(file);
      checkPinned(file, data, where);
      await fs.writeFile(path.join(partial, file.name), data);
    }
    await readVerified(model, partial);
    const dest = modelFileLayout.cached(id);
    try {
      await fs.rename(partial, dest);
    } catch (err) {
      if ((await presenceOf(model)).presence !== 'cached') throw err;
    }
    return dest;
  } finally {
    await fs.rm(partial, { recursive: true, force: true });
  }
}
