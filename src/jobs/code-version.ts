import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../storage/paths.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

let cached: { root: string; version: string } | undefined;

/**
 * The version of the code that computes jobs: sha256 over every file under `src/` (relative path and bytes)
 * and the package manifest and lock file, so coordinator and worker agree exactly when they run the same
 * checkout with the same dependencies. 16 hex characters.
 */
export function codeVersion(root: string = projectRoot()): string {
  if (cached?.root === root) return cached.version;
  const files = filesUnder(path.join(root, 'src'));
  for (const f of ['package.json', 'package-lock.json']) if (fs.existsSync(path.join(root, f))) files.push(path.join(root, f));
  const rel = files.map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
  const h = createHash('sha256');
  for (const r of rel) {
    const bytes = fs.readFileSync(path.join(root, r));
    h.update(`${r}\0${bytes.length}\0`).update(bytes);
  }
  const version = h.digest('hex').slice(0, 16);
  cached = { root, version };
  return version;
}
