import { h, fmtTime, badge, emptyState, table } from "./dom.js";
import { modelCard, decisionsTable } from "./overview.js";
import { vl } from "./charts.js";

export function renderRegistry(data) {
  if (!data.versions.length && !data.decisions.length) return emptyState("the model registry is empty.");
  const metricRows = [...data.versions].sort((a, b) => a.version - b.version).flatMap((c) =>
    ["precision", "recall", "f1", "rocAuc"].filter((k) => typeof c.metrics[k] === "number").map((k) => ({ version: `v${c.version}`, metric: k, value: c.metrics[k] })));
  const rollbacks = data.decisions.filter((d) => d.action === "rollback");
  return h("div", {},
    modelCard(data.promoted),
    h("h2", {}, `Versions (${data.versions.length})`),
    metricRows.length ? vl({
      data: { values: metricRows },
      mark: { type: "line", point: true, tooltip: true },
      encoding: { x: { field: "version", type: "ordinal", sort: null, axis: { labelAngle: 0 } }, y: { field: "value", type: "quantitative", scale: { zero: false } },
        color: { field: "metric", type: "nominal", title: null } },
    }, { width: 480, height: 200 }) : null,
    table(data.versions, [
      { label: "version", value: (c) => `v${c.version}`, format: (v, c) => (data.promoted?.version === c.version ? [v, " ", badge("promoted")] : v) },
      { label: "created", value: (c) => c.createdAt, format: fmtTime },
      { label: "run", value: (c) => c.runId, format: (v) => (v ? h("a", { href: `./runs/${v}` }, v) : "–") },
      { label: "data set", value: (c) => c.dataset?.name },
      { label: "precision", value: (c) => c.metrics.precision },
      { label: "recall", value: (c) => c.metrics.recall },
      { label: "F1", value: (c) => c.metrics.f1 },
      { label: "ROC AUC", value: (c) => c.metrics.rocAuc },
      { label: "threshold", value: (c) => c.threshold },
    ]),
    h("h2", {}, "Decisions: promotions, rejections, rollbacks"),
    data.decisions.length ? decisionsTable(data.decisions) : h("p", { class: "muted" }, "No decisions yet."),
    h("h2", {}, "Rollbacks"),
    rollbacks.length
      ? h("ul", {}, rollbacks.map((d) => h("li", {}, `${fmtTime(d.time)}: v${d.previous} → v${d.promoted}. `, d.userReason ?? d.reasons.join("; "), d.user ? ` (${d.user})` : "")))
      : h("p", { class: "muted" }, "No rollbacks."),
    data.decisions.some((d) => d.checks?.length) ? [
      h("h2", {}, "Gate checks of the latest decision"),
      table(data.decisions.find((d) => d.checks?.length).checks, [
        { label: "check", value: (c) => c.name },
        { label: "result", value: (c) => (c.passed ? "pass" : "fail"), format: (v) => badge(v) },
        { label: "detail", value: (c) => c.detail },
      ]),
    ] : null);
}
