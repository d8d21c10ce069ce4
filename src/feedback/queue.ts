import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';
import type { QueuedFeedback } from './types.js';

const ID_RE = /^[0-9A-Za-z_-]{8,80}$/;

/**
 * Feedback waiting for S3, one file per item on local disk. An item is written to a temp file, fsynced and renamed
 * into place, then the folder is fsynced, so after `add` returns the item survives a crash or power cut.
 */
export class FeedbackQueue {
  constructor(readonly dir: string) {}

  private file(id: string): string {
    if (!ID_RE.test(id)) throw new Error(`bad feedback id "${id}"`);
    return path.join(this.dir, `${id}.json`);
  }

  async add(item: QueuedFeedback): Promise<void> {
    await writeFileAtomic(this.file(item.record.id), JSON.stringify(item));
    await fsyncDir(this.dir);
  }

  /** Ids of queued items, oldest first (ids start with a time stamp). */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter((id) => ID_RE.test(id))
      .sort();
  }

  /** The item, or undefined when it is gone (uploaded meanwhile). A damaged file is moved aside and reported. */
  async get(id: string): Promise<QueuedFeedback | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as QueuedFeedback;
    } catch {
      const aside = path.join(this.dir, 'damaged', `${id}.json`);
      await fs.mkdir(path.dirname(aside), { recursive: true });
      await fs.rename(this.file(id), aside);
      throw new Error(`queued feedback ${id} is damaged; moved to ${aside}`);
    }
  }

  /** True while the item is queued (not uploaded yet). */
  async has(id: string): Promise<boolean> {
    try {
      await fs.access(this.file(id));
      return true;
    } catch {
      return false;
    }
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
    await fsyncDir(this.dir).catch(() => undefined);
  }

  async depth(): Promise<number> {
    return (await this.ids()).length;
  }
}

/** Make a rename or unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
