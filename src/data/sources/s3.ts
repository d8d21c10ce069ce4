import { parse } from 'csv-parse/sync';
import { S3Store } from '../../storage/s3-client.js';
import { parseS3Url, type S3Config } from '../../storage/s3-config.js';
import type { DataSource, SourceItem } from '../types.js';

export interface S3SourceOptions {
  /** Folder name -> group name (e.g. {kittens: 'cat'}), as for folder sources. */
  groups?: Record<string, string>;
  /** The store to read from; by default one configured from AREYOUACAT_S3_* (see s3ConfigFromEnv). */
  store?: S3Store;
  /** Settings that override the environment when no store is given. */
  config?: Partial<S3Config>;
}

/** Keys directly under the prefix that describe the data set rather than belong to a group. */
const DESCRIPTION_FILES = new Set(['manifest.csv']);

/**
 * An S3 prefix laid out like a data set folder: `s3://bucket/prefix/<group>/<file>`, with an optional
 * `manifest.csv` under the prefix naming each file's upstream source (column `source`). Item paths are keys
 * relative to the prefix. Files under a group "folder" are offered whatever their extension; keys with a
 * path segment starting with '.' are skipped, as hidden files are in folders.
 */
export class S3Source implements DataSource {
  readonly id: string;
  readonly bucket: string;
  /** '' or a prefix ending in '/'. */
  readonly prefix: string;
  readonly store: S3Store;
  private readonly groups: Record<string, string>;

  constructor(url: string, opts: S3SourceOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.id = `s3://${bucket}/${this.prefix}`.replace(/\/$/, '');
    this.store = opts.store ?? S3Store.fromEnv(opts.config ?? {});
    this.groups = opts.groups ?? {};
  }

  private groupOf(relPath: string): string {
    const folder = relPath.split('/')[0];
    return this.groups[folder] ?? folder;
  }

  private async readSourceColumn(hasManifest: boolean): Promise<Map<string, string>> {
    if (!hasManifest) return new Map();
    const key = `${this.prefix}manifest.csv`;
    const text = (await this.store.getObject(this.bucket, key)).toString('utf8');
    let rows: Record<string, string>[];
    try {
      rows = parse(text, { columns: true, skip_empty_lines: true, trim: true });
    } catch (err) {
      throw new Error(`s3://${this.bucket}/${key} is not valid CSV: ${(err as Error).message}`);
    }
    if (rows.length && !('path' in rows[0])) throw new Error(`s3://${this.bucket}/${key} has no "path" column`);
    return new Map(rows.map((r) => [r.path.replace(/\\/g, '/'), r.source || this.fallbackSource()]));
  }

  private fallbackSource(): string {
    const parts = this.prefix.split('/').filter(Boolean);
    return parts[parts.length - 1] ?? this.bucket;
  }

  async list(): Promise<SourceItem[]> {
    const objects = await this.store.listKeys(this.bucket, this.prefix);
    const sizes = new Map<string, number>();
    let hasManifest = false;
    for (const o of objects) {
      const rel = o.key.slice(this.prefix.length);
      if (DESCRIPTION_FILES.has(rel)) hasManifest = true;
      if (!rel.includes('/') || rel.endsWith('/')) continue; // loose top-level files, "folder" markers
      if (rel.split('/').some((seg) => seg.startsWith('.') || seg === '')) continue;
      sizes.set(rel, o.size);
    }
    const sources = await this.readSourceColumn(hasManifest);
    const paths = [...sizes.keys()];
    for (const listed of sources.keys()) if (listed.includes('/') && !sizes.has(listed)) paths.push(listed);
    paths.sort();
    if (paths.length === 0) {
      throw new Error(`no files under group folders in s3://${this.bucket}/${this.prefix} (expected <group>/<image>)`);
    }
    const fallback = this.fallbackSource();
    return paths.map((p) => {
      const item: SourceItem = { path: p, group: this.groupOf(p), source: sources.get(p) ?? fallback };
      const size = sizes.get(p);
      if (size !== undefined) item.size = size;
      return item;
    });
  }

  async read(item: SourceItem): Promise<Buffer> {
    if (item.path.split('/').includes('..')) throw new Error(`path escapes the S3 prefix: ${item.path}`);
    return this.store.getObject(this.bucket, `${this.prefix}${item.path}`);
  }
}
