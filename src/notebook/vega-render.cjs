'use strict';
// Vega-Lite -> SVG in Node. vega and vega-lite are ESM-only packages; notebook cells are compiled to CommonJS,
// where a static import of them fails. A real dynamic import() in this CommonJS file loads them in both worlds.

let modules;

function loadVega() {
  if (!modules) {
    modules = Promise.all([import('vega'), import('vega-lite')]).then(
      ([vega, vegaLite]) => ({ vega, vegaLite }),
      (err) => {
        modules = undefined;
        // vega and vega-lite are development dependencies (notebooks only), left out by npm ci --omit=dev.
        if (err && err.code === 'ERR_MODULE_NOT_FOUND') throw new Error(`charts need vega and vega-lite, which a production install leaves out: npm install --include=dev (${err.message})`);
        throw err;
      },
    );
  }
  return modules;
}

/** Compile a Vega-Lite spec and render it to an SVG string (no browser, no canvas). */
async function toSvg(spec) {
  if (!spec || typeof spec !== 'object') throw new Error('toSvg needs a Vega-Lite spec object');
  const { vega, vegaLite } = await loadVega();
  let compiled;
  try {
    compiled = vegaLite.compile(spec).spec;
  } catch (err) {
    throw new Error(`invalid Vega-Lite spec: ${err.message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

module.exports = { toSvg };
