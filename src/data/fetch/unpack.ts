import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import type { ArchiveKind } from './recipes.js';

/** Normalise an archive member path: forward slashes, no leading './'. */
export function memberPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * Unpack the members of a .tar.gz that `keep` accepts into `destDir` (created). Paths that would leave
 * `destDir` are refused by the tar library; a damaged archive is an error.
 */
export async function extractTarGz(file: string, destDir: string, keep: (member: string) => boolean): Promise<number> {
  await fsp.mkdir(destDir, { recursive: true });
  let count = 0;
  try {
    await tar.x({
      file,
      cwd: destDir,
      strict: true,
      filter: (p, entry) => {
        const isFile = 'type' in entry ? entry.type === 'File' || entry.type === 'OldFile' : entry.isFile();
        const ok = isFile && keep(memberPath(p));
        if (ok) count++;
        return ok;
      },
    });
  } catch (err) {
    throw new Error(`cannot unpack ${path.basename(file)}: ${(err as Error).message}`);
  }
  return count;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => (err ? reject(err) : resolve(zip))),
  );
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))),
  );
}

/** Unpack the file members of a zip that `keep` accepts into `destDir`. yauzl refuses unsafe member names. */
export async function extractZip(file: string, destDir: string, keep: (member: string) => boolean): Promise<number> {
  await fsp.mkdir(destDir, { recursive: true });
  const root = path.resolve(destDir);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    throw new Error(`cannot unpack ${path.basename(file)}: ${(err as Error).message}`);
  }
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      zip.close();
      reject(new Error(`cannot unpack ${path.basename(file)}: ${err.message}`));
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = memberPath(entry.fileName);
      if (name.endsWith('/') || !keep(name)) {
        zip.readEntry();
        return;
      }
      const target = path.resolve(root, name);
      if (!target.startsWith(root + path.sep)) return fail(new Error(`member ${name} would leave the target folder`));
      (async () => {
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await pipeline(await openEntry(zip, entry), fs.createWriteStream(target));
        count++;
        zip.readEntry();
      })().catch(fail);
    });
    zip.readEntry();
  });
  return count;
}

export function extractArchive(
  kind: ArchiveKind, file: string, destDir: string, keep: (member: string) => boolean,
): Promise<number> {
  return kind === 'zip' ? extractZip(file, destDir, keep) : extractTarGz(file, destDir, keep);
}
