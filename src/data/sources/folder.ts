import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { DataSource, SourceItem } from '../types.js';

export interface FolderSourceOptions {
  /** Folder name -> group name (e.g. {kittens: 'cat'}). Folders not in the map keep their own name as group. */
  groups?: Record<string, string>;
}

/** Files at the top of a data set folder that describe it rather than belong to a group. */
const DESCRIPTION_FILES = new Set(['manifest.csv']);

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walk(path.join(dir, e.name), childRel, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(childRel);
  }
}

/**
 * A folder laid out as `<group>/<file>` (sub-folders inside a group are walked). Every file under a group folder
 * is offered, whatever its extension: the manifest decides what is an image and records why others are not.
 * An optional `manifest.csv` (columns path, source, ...) names each file's upstream source; files it lists that
 * are missing are still offered, so they show up as rejected rather than vanish. Loose files at the top level
 * (README, SOURCES.md, manifest.csv) are not data.
 */
export class FolderSource implements DataSource {
  readonly id: string;
  readonly root: string;
  private readonly groups: Record<string, string>;

  constructor(root: string, opts: FolderSourceOptions = {}) {
    this.root = path.resolve(root);
    this.id = `folder:${this.root}`;
    this.groups = opts.groups ?? {};
  }

  private groupOf(relPath: string): string {
    const folder = relPath.split('/')[0];
    return this.groups[folder] ?? folder;
  }

  private async readSourceColumn(): Promise<Map<string, string>> {
    const file = path.join(this.root, 'manifest.csv');
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return new Map();
    }
    let rows: Record<string, string>[];
    try {
      rows = parse(text, { columns: true, skip_empty_lines: true, trim: true });
    } catch (err) {
      throw new Error(`${file} is not valid CSV: ${(err as Error).message}`);
    }
    if (rows.length && !('path' in rows[0])) throw new Error(`${file} has no "path" column`);
    return new Map(rows.map((r) => [r.path.replace(/\\/g, '/'), r.source || path.basename(this.root)]));
  }

  async list(): Promise<SourceItem[]> {
    let stat;
    try {
      stat = await fs.stat(this.root);
    } catch {
      throw new Error(`data folder not found: ${this.root}`);
    }
    if (!stat.isDirectory()) throw new Error(`not a folder: ${this.root}`);
    const files: string[] = [];
    await walk(this.root, '', files);
    const sources = await this.readSourceColumn();
    const fallbackSource = path.basename(this.root);
    const inGroup = files.filter((f) => f.includes('/') && !DESCRIPTION_FILES.has(f));
    const seen = new Set(inGroup);
    for (const listed of sources.keys()) if (listed.includes('/') && !seen.has(listed)) inGroup.push(listed);
    inGroup.sort();
    if (inGroup.length === 0) throw new Error(`no files under group folders in ${this.root} (expected <group>/<image>)`);
    return Promise.all(
      inGroup.map(async (p) => {
        const item: SourceItem = { path: p, group: this.groupOf(p), source: sources.get(p) ?? fallbackSource };
        return item;
      }),
    );
  }

  async read(item: SourceItem): Promise<Buffer> {
    const file = path.resolve(this.root, item.path);
    if (!file.startsWith(this.root + path.sep)) throw new Error(`path escapes the data folder: ${item.path}`);
    return fs.readFile(file);
  }
}
