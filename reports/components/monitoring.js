import { h, emptyState, table } from "./dom.js";
import { vl } from "./charts.js";

function timeField(row) {
  return ["time", "timestamp", "at", "date", "windowStart", "start"].find((k) => typeof row?.[k] === "string");
}

/** A JSON-lines series: a line per numeric field over time, and the newest rows as a table. */
function seriesView({ name, rows }) {
  const objects = rows.filter((r) => r && typeof r === "object" && !Array.isArray(r));
  const tf = timeField(objects[0]);
  const numeric = [...new Set(objects.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] === "number")))];
  const long = tf ? objects.flatMap((r) => numeric.filter((k) => typeof r[k] === "number").map((k) => ({ t: r[tf], field: k, value: r[k] }))) : [];
  return h("section", {},
    h("h3", {}, name),
    long.length ? vl({
      data: { values: long },
      mark: { type: "line", point: true, tooltip: true },
      encoding: { x: { field: "t", type: "temporal", title: tf }, y: { field: "value", type: "quantitative" },
        color: { field: "field", type: "nominal", title: null } },
    }, { width: 560, height: 200 }) : null,
    objects.length ? table(objects.slice(-20).reverse(), Object.keys(objects[0])) : h("p", { class: "muted" }, "No rows."));
}

export function renderMonitoring(data) {
  if (!data.documents.length && !data.series.length) {
    return emptyState("nothing has been monitored: the served model has not logged predictions or feedback.", "areyouacat pipeline deploy");
  }
  return h("div", {},
    data.problems.length ? h("ul", {}, data.problems.map((p) => h("li", {}, p))) : null,
    data.series.map(seriesView),
    data.documents.map((d) => h("section", {}, h("h3", {}, d.name), h("pre", {}, JSON.stringify(d.value, null, 2).slice(0, 20000)))));
}
