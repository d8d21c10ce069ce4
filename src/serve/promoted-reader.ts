import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import type { PromotedModel, PromotedPointer } from '../registry/types.js';

/** Read `promoted.json` of the registry (null when nothing is promoted). */
export async function readPromotedPointer(): Promise<PromotedModel | null> {
  const file = path.join(paths.registry(), 'promoted.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const p = JSON.parse(text) as PromotedPointer;
  return { version: p.version, dir: path.resolve(paths.registry(), p.dir), card: p.card };
}
