import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering rules of `src/`, checked on the source text: nothing outside `src/cli` imports `src/cli`, and the
 * top-level folders of `src/` import each other without a cycle. Every import form counts: static `import`
 * (type-only too), `export ... from`, dynamic `import('...')` and `require('...')`.
 */

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

interface ImportEdge {
  /** Importing file, relative to src/. */
  from: string;
  /** Imported file, relative to src/ (without resolving the extension). */
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return SOURCE_FILE.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.cts') ? [full] : [];
  });
}

/** Relative import specifiers of one file's text (comments and strings are not mistaken for imports). */
export function importSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Imports between files of `root`, as paths relative to it; bare package imports and files outside are skipped. */
export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative(root, path.resolve(path.dirname(file), spec));
      if (target.startsWith('..') || path.isAbsolute(target)) continue;
      edges.push({ from: path.relative(root, file).split(path.sep).join('/'), to: target.split(path.sep).join('/') });
    }
  }
  return edges;
}

/** Top-level folder of a path relative to src/ ('.' for files directly in src/). */
export function folderOf(relative: string): string {
  const parts = relative.split('/');
  return parts.length > 1 ? parts[0] : '.';
}

/** Folder graph: folder -> imported folder -> the first file-level import that made the edge. */
export function folderGraph(edges: readonly ImportEdge[]): Map<string, Map<string, ImportEdge>> {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const e of edges) {
    const a = folderOf(e.from), b = folderOf(e.to);
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.has(b)) graph.set(b, new Map());
    if (a !== b && !graph.get(a)!.has(b)) graph.get(a)!.set(b, e);
  }
  return graph;
}

/**
 * Every elementary cycle through distinct folders is too many to print; this returns one cycle per strongly
 * connected component of more than one folder (Tarjan), as a path that starts and ends at the same folder.
 */
export function folderCycles(graph: Map<string, Map<string, unknown>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => cycleWithin(graph, new Set(component), component[0]));
}

/** A shortest path from `start` back to itself inside one strongly connected component (breadth first). */
function cycleWithin(graph: Map<string, Map<string, unknown>>, component: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!component.has(w)) continue;
      if (w === start) {
        const between: string[] = [];
        for (let x: string | undefined = v; x !== undefined && x !== start; x = previous.get(x)) between.unshift(x);
        return [start, ...between, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

function describeGraph(graph: Map<string, Map<string, ImportEdge>>): string {
  return [...graph.keys()]
    .sort()
    .map((a) => {
      const targets = [...graph.get(a)!.entries()].sort(([x], [y]) => x.localeCompare(y));
      return `${a} -> ${targets.map(([b, e]) => `${b} (${e.from} imports ${e.to})`).join(', ') || '(nothing)'}`;
    })
    .join('\n');
}

function describeCycles(cycles: string[][], graph: Map<string, Map<string, ImportEdge>>): string {
  return cycles
    .map((c) => {
      const steps = c.slice(1).map((b, i) => {
        const e = graph.get(c[i])!.get(b)!;
        return `    ${c[i]} -> ${b}: ${e.from} imports ${e.to}`;
      });
      return `  ${c.join(' -> ')}\n${steps.join('\n')}`;
    })
    .join('\n');
}

describe('the checker itself', () => {
  it('finds every import form and ignores imports in comments and strings', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { B } from '../cli/b.js';",
      "export * from './c.js';",
      "export { d } from './d.js';",
      "const e = await import('./e.js');",
      "const f = require('./f.cjs');",
      "import './g.js';",
      "// import h from './h.js';",
      "const s = \"import i from './i.js'\";",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(['./a.js', '../cli/b.js', './c.js', './d.js', './e.js', './f.cjs', './g.js']);
  });

  it('reports a folder cycle as a path, and none for a layered graph', () => {
    const e = (from: string, to: string): ImportEdge => ({ from: `${from}/x.ts`, to: `${to}/y.js` });
    const layered = folderGraph([e('cli', 'pipelines'), e('pipelines', 'model'), e('model', 'progress'), e('pipelines', 'progress')]);
    expect(folderCycles(layered)).toEqual([]);
    const knotted = folderGraph([e('cli', 'pipelines'), e('pipelines', 'serve'), e('serve', 'monitoring'), e('monitoring', 'pipelines'), e('model', 'model')]);
    expect(folderCycles(knotted)).toEqual([['monitoring', 'pipelines', 'serve', 'monitoring']]);
  });
});

describe('imports between the folders of src/', () => {
  const edges = importEdges(SRC);
  const graph = folderGraph(edges);

  it('finds the source files and their imports', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(graph.has('cli') && graph.has('pipelines') && graph.has('model')).toBe(true);
  });

  it('nothing outside src/cli imports src/cli', () => {
    const bad = edges.filter((e) => folderOf(e.from) !== 'cli' && folderOf(e.to) === 'cli');
    expect(bad.map((e) => `${e.from} imports ${e.to}`), `imports of src/cli from other folders.\nFolder graph:\n${describeGraph(graph)}`).toEqual([]);
  });

  it('the top-level folders import each other without a cycle', () => {
    const cycles = folderCycles(graph);
    expect(cycles, `import cycles between folders of src/:\n${describeCycles(cycles, graph)}\nFolder graph:\n${describeGraph(graph)}`).toEqual([]);
  });
});
