// Vega-Lite charts, bundled from node_modules (no CDN): vl(spec) returns an element that fills in when drawn.
import embed from "vega-embed";

const config = {
  background: null,
  view: { stroke: null },
  axis: { labelColor: "currentColor", titleColor: "currentColor", gridOpacity: 0.25 },
  legend: { labelColor: "currentColor", titleColor: "currentColor" },
  title: { color: "currentColor" },
};

export function vl(spec, { width = 560, height = 240 } = {}) {
  const el = document.createElement("div");
  el.className = "vl-chart";
  const full = { width, height, ...spec, config: { ...config, ...(spec.config ?? {}) } };
  embed(el, full, { actions: false, renderer: "svg", mode: "vega-lite" }).catch((err) => {
    el.textContent = `chart could not be drawn: ${err.message}`;
    console.error(err);
  });
  return el;
}

/** Lines of several series: rows {x, y, series}. */
export function lines(rows, { x, y, series, xTitle = x, yTitle = y, width, height, domainY, points = false }) {
  return vl({
    data: { values: rows },
    mark: { type: "line", point: points, tooltip: true },
    encoding: {
      x: { field: x, type: "quantitative", title: xTitle },
      y: { field: y, type: "quantitative", title: yTitle, scale: domainY ? { domain: domainY } : { zero: false } },
      ...(series ? { color: { field: series, type: "nominal", title: null } } : {}),
    },
  }, { width, height });
}

/** A curve (ROC, PR) with an optional chance line. */
export function curve(rows, { x, y, xTitle, yTitle, diagonal = false, baseline = null, width = 300, height = 300 }) {
  const layers = [
    { data: { values: rows }, mark: { type: "line", interpolate: "step-after", tooltip: true },
      encoding: { x: { field: x, type: "quantitative", title: xTitle, scale: { domain: [0, 1] } },
                  y: { field: y, type: "quantitative", title: yTitle, scale: { domain: [0, 1] } } } },
  ];
  if (diagonal) layers.push({ data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: "line", strokeDash: [4, 4], color: "gray" },
    encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } } });
  if (baseline != null) layers.push({ data: { values: [{ b: baseline }] }, mark: { type: "rule", strokeDash: [4, 4], color: "gray" },
    encoding: { y: { field: "b", type: "quantitative" } } });
  return vl({ layer: layers }, { width, height });
}

export function bars(rows, { x, y, color, xTitle = x, yTitle = y, width, height, xType = "nominal", domainY }) {
  return vl({
    data: { values: rows },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: x, type: xType, title: xTitle },
      y: { field: y, type: "quantitative", title: yTitle, ...(domainY ? { scale: { domain: domainY } } : {}) },
      ...(color ? { color: { field: color, type: "nominal" }, xOffset: { field: color } } : {}),
    },
  }, { width, height });
}

/** Histogram of raw values per series: rows {value, series}. */
export function histogram(rows, { field = "value", series = "series", title = field, width = 300, height = 160 }) {
  return vl({
    data: { values: rows },
    mark: { type: "bar", opacity: 0.6, tooltip: true },
    encoding: {
      x: { field, type: "quantitative", bin: { maxbins: 30 }, title },
      y: { aggregate: "count", type: "quantitative", stack: null, title: "images" },
      color: { field: series, type: "nominal", title: null },
    },
  }, { width, height });
}

/** 2x2 confusion matrix with counts. */
export function confusion(c) {
  const rows = [
    { actual: "cat", predicted: "cat", n: c.tp },
    { actual: "cat", predicted: "not cat", n: c.fn },
    { actual: "not cat", predicted: "cat", n: c.fp },
    { actual: "not cat", predicted: "not cat", n: c.tn },
  ];
  return vl({
    data: { values: rows },
    encoding: {
      x: { field: "predicted", type: "nominal", sort: ["cat", "not cat"], axis: { orient: "top", labelAngle: 0 } },
      y: { field: "actual", type: "nominal", sort: ["cat", "not cat"] },
    },
    layer: [
      { mark: "rect", encoding: { color: { field: "n", type: "quantitative", legend: null, scale: { scheme: "blues" } } } },
      { mark: { type: "text", fontSize: 16 }, encoding: { text: { field: "n", type: "quantitative" },
        color: { condition: { test: `datum.n > ${Math.max(c.tp, c.fp, c.tn, c.fn) / 2}`, value: "white" }, value: "black" } } },
    ],
  }, { width: 220, height: 180 });
}

/** Score of each trial against one hyperparameter. */
export function trialScatter(points, param, metric) {
  const rows = points.filter((p) => p.score != null && p.params[param] !== undefined)
    .map((p) => ({ value: typeof p.params[param] === "object" ? JSON.stringify(p.params[param]) : p.params[param], score: p.score, trial: p.name, budget: p.budget ?? "–" }));
  const budgets = new Set(rows.map((r) => r.budget)).size > 1;
  const numeric = rows.every((r) => typeof r.value === "number");
  const positive = numeric && rows.every((r) => r.value > 0);
  const spread = positive ? Math.max(...rows.map((r) => r.value)) / Math.min(...rows.map((r) => r.value)) : 1;
  return vl({
    title: param,
    data: { values: rows },
    mark: { type: "point", filled: true, tooltip: true },
    encoding: {
      x: { field: "value", type: numeric ? "quantitative" : "nominal", title: param, ...(spread > 50 ? { scale: { type: "log" } } : {}) },
      y: { field: "score", type: "quantitative", title: metric, scale: { zero: false } },
      ...(budgets ? { color: { field: "budget", type: "ordinal", title: "epochs" } } : {}),
    },
  }, { width: 240, height: 180 });
}
