import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot } from '../storage/paths.js';

/**
 * The WebAssembly binaries of the predict page's wasm backend. It runs one thread (threads need a cross-origin
 * isolated page), so the threaded build is never fetched, but tfjs wants a URL for every binary.
 */
export const TFJS_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
/** The backend itself as a classic (UMD) script, in its ES2017 build (real classes, as the page's tfjs core): its ES module imports Node built-ins a browser cannot resolve. */
export const TFJS_WASM_SCRIPT = 'tf-backend-wasm.es2017.min.js';
export type TfjsWasmFile = (typeof TFJS_WASM_FILES)[number] | typeof TFJS_WASM_SCRIPT;

/** The folder of the installed @tensorflow/tfjs-backend-wasm that holds its .wasm files. */
export function tfjsWasmDir(): string {
  const require = createRequire(path.join(projectRoot(), 'package.json'));
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

/** One of those files, from the installed package (the site serves it from its own origin). */
export async function tfjsWasmBinary(name: TfjsWasmFile): Promise<Buffer> {
  return fs.readFile(path.join(tfjsWasmDir(), name));
}
