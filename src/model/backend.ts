import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '../tfjs/index.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import type { Log } from '../progress/index.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | string;

export interface SelectBackendOptions {
  /** Force one backend ('tensorflow' = tfjs-node, 'wasm', 'cpu'); default: the fastest available. */
  prefer?: 'tensorflow' | 'wasm' | 'cpu';
  /** Where warnings go; default console.warn. */
  warn?: Log;
}

let chosen: Promise<string> | undefined;
let chosenPrefer: string | undefined;

/** A require that resolves packages from the project root: works under tsx ESM, vitest and CommonJS notebooks. */
export function projectRequire(): NodeRequire {
  return createRequire(path.join(process.cwd(), 'package.json'));
}

/** Folder holding the wasm backend's `.wasm` binaries inside node_modules, with a trailing separator. */
export function wasmBinaryDir(): string {
  const main = projectRequire().resolve('@tensorflow/tfjs-backend-wasm');
  return path.dirname(main) + path.sep;
}

async function tryTfjsNode(): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers and type checkers from requiring the optional package.
    const name = '@tensorflow/tfjs-node';
    projectRequire()(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

let wasmFailure = '';

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = projectRequire()('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmBinaryDir());
    registerWasmTrainingKernels();
    const ok = await tf.setBackend('wasm');
    if (!ok) wasmFailure = 'the wasm backend failed to initialise';
    return ok;
  } catch (err) {
    wasmFailure = (err as Error).message;
    return false;
  }
}

async function pick(options: SelectBackendOptions): Promise<string> {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const prefer = options.prefer;
  if ((prefer === undefined || prefer === 'tensorflow') && (await tryTfjsNode())) return tf.getBackend();
  if ((prefer === undefined || prefer === 'wasm') && (await tryWasm())) return tf.getBackend();
  if (prefer !== undefined && prefer !== 'cpu') {
    throw new Error(`backend '${prefer}' is not available (for 'tensorflow', install @tensorflow/tfjs-node yourself)`);
  }
  await tf.setBackend('cpu');
  if (prefer !== 'cpu') {
    warn(
      'WARNING: neither @tensorflow/tfjs-node nor the wasm backend could be loaded; training on the pure-JS cpu ' +
        `backend, which is several hundred times slower${wasmFailure ? ` (wasm: ${wasmFailure})` : ''}.`,
    );
  }
  return tf.getBackend();
}

/**
 * Choose and initialise the TensorFlow.js backend: tfjs-node when the user has it installed, else wasm with this
 * project's training kernels, else the slow cpu backend with a loud warning. Returns the backend name
 * ('tensorflow', 'wasm' or 'cpu'), which runs record. Repeated calls with the same preference reuse the choice.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<string> {
  // Without a preference, keep whatever an earlier call chose (e.g. a user's explicit 'cpu').
  const key = options.prefer ?? chosenPrefer ?? 'auto';
  if (!chosen || chosenPrefer !== key) {
    chosenPrefer = key;
    chosen = pick(options);
  } else {
    chosen = chosen.then(async (name) => {
      if (tf.getBackend() !== name) await tf.setBackend(name);
      return name;
    });
  }
  return chosen;
}
