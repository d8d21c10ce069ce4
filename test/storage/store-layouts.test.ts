import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The tracking store and the registry own their on-disk layouts: only these files join the names below into
// paths; every other reader (site, monitoring, pipelines, CLI, notebooks, report loaders, scripts, benchmarks)
// asks the store (`artifactPath()`, `readArtifactJson()`, `readPromotedPointer()`, ...).
const OWNERS: Record<string, string[]> = {
  'src/tracking/layout.ts': ['artifacts', 'run.json', 'epochs.jsonl', 'paths.runs() + ...'],
  'src/registry/registry.ts': ['promoted.json', 'decisions.jsonl', 'versions', 'policy.json', 'paths.registry() + ...'],
};
const NAMES = [...new Set(Object.values(OWNERS).flat())].filter((n) => !n.startsWith('paths.'));
const ROOTS = ['src', 'notebooks', 'scripts', 'bench', 'reports/data', 'reports/components'];

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.(ts|js|ipynb)$/.test(e.name) ? [p] : [];
  });
}

/** `path.join(..., 'name' ...)` or `paths.runs()`/`paths.registry()` joined with something: a path built by hand. */
function handBuilt(text: string): string[] {
  const found: string[] = [];
  const quoted = NAMES.map((n) => n.replace('.', '\\.')).join('|');
  const join = new RegExp(`path\\.(?:posix\\.)?(?:join|resolve)\\(([^()]|\\([^()]*\\))*['"](${quoted})['"]`, 'g');
  for (const m of text.matchAll(join)) found.push(m[2]);
  for (const m of text.matchAll(/path\.(?:join|resolve)\(\s*paths\.(runs|registry)\(\)\s*,/g)) found.push(`paths.${m[1]}() + ...`);
  return found;
}

describe('store layouts', () => {
  it('only the stores join their file and folder names into paths', () => {
    const offenders: string[] = [];
    for (const file of ROOTS.flatMap(files)) {
      const rel = file.split(path.sep).join('/');
      const own = OWNERS[rel] ?? [];
      for (const name of handBuilt(fs.readFileSync(file, 'utf8'))) if (!own.includes(name)) offenders.push(`${rel}: ${name}`);
    }
    expect(offenders).toEqual([]);
  });

  it('notices a path built by hand', () => {
    expect(handBuilt("const f = path.join(run.dir, 'artifacts', 'evaluation.json');")).toEqual(['artifacts']);
    expect(handBuilt("path.join(paths.registry(), 'promoted.json')")).toEqual(['promoted.json', 'paths.registry() + ...']);
    expect(handBuilt("path.join(paths.runs(), card.runId)")).toEqual(['paths.runs() + ...']);
    expect(handBuilt("path.join(deploy.training.run.runDir, 'artifacts', 'evaluation.json')")).toEqual(['artifacts']);
    expect(handBuilt("artifactPath(run, 'evaluation.json')")).toEqual([]);
  });
});
