import { tfjsWasmBinary } from '../../src/site/tfjs-wasm.js';

// The TensorFlow.js WebAssembly backend's threaded binary (the page runs one thread and never fetches it; tfjs wants its URL).
process.stdout.write(await tfjsWasmBinary('tfjs-backend-wasm-threaded-simd.wasm'));
