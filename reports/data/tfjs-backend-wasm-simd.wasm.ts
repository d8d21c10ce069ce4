import { tfjsWasmBinary } from '../../src/site/tfjs-wasm.js';

// The TensorFlow.js WebAssembly backend's binary with SIMD, served by the site for the predict page.
process.stdout.write(await tfjsWasmBinary('tfjs-backend-wasm-simd.wasm'));
