import * as tf from "./tf.js";

// Which TensorFlow.js backend the predict page runs on: WebGL on a real GPU; the WebAssembly backend when WebGL is
// missing or only emulated in software (SwiftShader, llvmpipe: slower than wasm there); the pure-JS CPU backend
// only as the last resort. The wasm backend and its binaries are served by the site itself (no CDN).
//
// The backend comes as the package's UMD script, not as a module import: the package's ES module imports Node's
// fs/path/os for its Node build, and the site's bundler keeps those imports, which a browser cannot resolve. The
// UMD script registers itself on `globalThis.tf` (the core it extends, here the page's own tfjs) under `tf.wasm`.

/** Load the wasm backend script (same-origin URL) into the page's tfjs; resolves to its exports (setWasmPaths...). */
function loadWasmScript(url) {
  globalThis.tf ??= { ...tf };
  if (globalThis.tf.wasm?.setWasmPaths) return Promise.resolve(globalThis.tf.wasm);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => (globalThis.tf.wasm?.setWasmPaths ? resolve(globalThis.tf.wasm) : reject(new Error("the wasm backend script did not register")));
    script.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.append(script);
  });
}

/** The renderer behind a WebGL context, or null when there is none. */
function webglRenderer() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2") ?? document.createElement("canvas").getContext("webgl");
    if (!gl) return null;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    return String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  } catch {
    return null;
  }
}

const SOFTWARE_GL = /swiftshader|llvmpipe|software|softpipe|mesa offscreen/i;

async function trySet(name) {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch (err) {
    console.warn(`TensorFlow.js backend ${name} unavailable:`, err);
    return false;
  }
}

/**
 * Pick and initialise the backend. Returns `{ name, reason }` for the page to show.
 * `wasm`: { script: url of the backend's UMD script, files: { [each .wasm file name]: url } } (same-origin URLs), or null.
 * tfjs wants a URL for each of its three binaries, the threaded one included, though one thread never loads it.
 */
export async function chooseBackend(wasm) {
  const renderer = webglRenderer();
  const hardwareGl = renderer != null && !SOFTWARE_GL.test(renderer);
  if (hardwareGl && (await trySet("webgl"))) return { name: "webgl", reason: `GPU: ${renderer}` };
  const wasmBackend = wasm ? await loadWasmScript(wasm.script).catch((err) => (console.warn(err), null)) : null;
  if (wasmBackend) {
    // Threads need a cross-origin isolated page (SharedArrayBuffer) and a worker script: one thread here.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (await Promise.resolve().then(() => wasmBackend.setWasmPaths(wasm.files)).then(() => trySet("wasm"), (err) => (console.warn(err), false))) {
      const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      return { name: "wasm", reason: `${renderer ? `WebGL is only emulated in software (${renderer})` : "no WebGL"}; WebAssembly${simd ? " with SIMD" : ""}` };
    }
  }
  if (renderer && (await trySet("webgl"))) return { name: "webgl", reason: `software WebGL (${renderer}); WebAssembly is not available` };
  await trySet("cpu");
  return { name: "cpu", reason: "neither WebGL nor WebAssembly works in this browser: the slow CPU backend" };
}
