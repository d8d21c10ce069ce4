import fs from 'node:fs';
import type { DataSource } from '../types.js';
import { FolderSource, type FolderSourceOptions } from './folder.js';
import { openSyntheticSource } from './synthetic.js';

export interface OpenSourceOptions extends FolderSourceOptions {}

/**
 * Open a data source from a spec string:
 *   - a folder path (`../shared/datasets/cats-v1`, `./photos`, `folder:./photos`).
 * Other kinds (`synthetic[:...]`, `s3://bucket/prefix`) are added here by their modules.
 */
export async function openSource(spec: string, opts: OpenSourceOptions = {}): Promise<DataSource> {
  const s = spec.trim();
  if (!s) throw new Error('empty data source spec');
  if (s.startsWith('folder:')) return new FolderSource(s.slice('folder:'.length), opts);
  if (s === 'synthetic' || s.startsWith('synthetic:')) return openSyntheticSource(s); // synthetic:seed=7,n=400
  if (s.startsWith('s3://')) return new (await import('./s3.js')).S3Source(s, opts); // S3 settings: AREYOUACAT_S3_*
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1];
  if (scheme && scheme.length > 1) {
    throw new Error(`unknown source "${spec}": expected a folder path (known kinds: folder path, folder:<path>, synthetic[:seed=1,n=800], s3://bucket/prefix)`);
  }
  if (!fs.existsSync(s)) throw new Error(`unknown source "${spec}": no such folder`);
  return new FolderSource(s, opts);
}

/** Parse `kittens=cat,puppies=dog` into a folder -> group map. */
export function parseGroupMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [folder, group] = part.split('=').map((x) => x?.trim());
    if (!folder || !group) throw new Error(`bad group mapping "${part}": expected folder=group`);
    map[folder] = group;
  }
  return map;
}
