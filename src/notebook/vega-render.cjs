'use strict';
// Vega-Lite -> SVG in Node. vega and vega-lite are ESM-only packages; notebook cells are compiled to CommonJS,
// where a static import of them fails. A real dynamic import() in this CommonJS file loads them in both worlds.

let modules;

function loadVega() {
  if (!modules) modules = Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({ vega, vegaLite }));
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
