import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// Notebook cells import src/ through tslab, which type-checks with its own TypeScript (5.0) and options: not
// strict, Node10 resolution, CommonJS output. Code that passes the project's compiler can still fail there (an
// untyped `let` is `any` without strict; some narrowings differ), and then every notebook importing it fails.
// This compiles all of src/ the way tslab does.
const require = createRequire(path.resolve('package.json'));
type Ts = typeof import('typescript');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('src/ under tslab', () => {
  it('type-checks with the TypeScript and options tslab compiles notebook cells with', () => {
    const ts = require('@tslab/typescript-for-tslab') as Ts;
    const files = sourceFiles(path.resolve('src'));
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts'],
      resolveJsonModule: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  }, 120_000);

  it('converts a cell that imports TensorFlow.js from src/tfjs (its declaration emitter too)', () => {
    // A module with `export *` next to a top-level call made this emitter throw "reading 'parent'" for every later
    // cell's declarations; the notebooks import src/tfjs through most of src/model.
    const { createConverter } = require('tslab/dist/converter.js') as typeof import('tslab/dist/converter.js');
    const converter = createConverter();
    try {
      const cell = "import * as tf from './src/tfjs/index';\nconst shape = tf.tensor([1, 2, 3, 4]).reshape([2, 2]).shape;\n";
      const result = converter.convert('', cell);
      expect(result.diagnostics).toEqual([]);
      expect(result.declOutput).toContain('shape');
    } finally {
      converter.close();
    }
  }, 120_000);
});
