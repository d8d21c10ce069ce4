// TensorFlow.js for the pages, from the scoped packages (the server's side does the same in src/tfjs/index.ts)
// instead of the `@tensorflow/tfjs` union package: the core API, layers models, graph models (the pretrained
// backbones), and the WebGL and CPU backends. The WebAssembly backend is loaded on demand by tf-backend.js.
// Gradients (training) are not needed here; tfjs-layers registers them anyway.
//
// Order matters, as in the union package: tfjs-core first, then its chained tensor methods (`x.slice(...)`). The
// chained-ops module is bundled with its own copy of tfjs-core's engine and tensor code; whichever copy runs first
// creates the engine that makes every tensor, and only tfjs-core's own entry connects its Tensor class to the ops
// (with the chained ops first, `x.clone()` fails: "Cannot read properties of null (reading 'clone')").
import "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-webgl";

export * from "@tensorflow/tfjs-core";
export * from "@tensorflow/tfjs-layers";
export * from "@tensorflow/tfjs-converter";
