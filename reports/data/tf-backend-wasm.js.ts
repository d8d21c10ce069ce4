import { tfjsWasmBinary, TFJS_WASM_SCRIPT } from '../../src/site/tfjs-wasm.js';

// The TensorFlow.js WebAssembly backend as a classic script, served by the site for the predict page.
process.stdout.write(await tfjsWasmBinary(TFJS_WASM_SCRIPT));
