import { h, fmt, fmtTime, badge, emptyState, table } from "./dom.js";
import { modelCard, decisionsTable } from "./overview.js";
import { vl } from "./charts.js";

/**
 * The promoted version's model card (the same content as its MODEL_CARD.md): intended use, training data with
 * sources and licences, evaluation per group (and per source when recorded), known failure modes, threshold.
 */
export function modelCardDetails(card) {
  const d = card?.details;
  if (!d) return h("p", { class: "muted" }, "This version has no model card details (it was registered without a training run); MODEL_CARD.md beside it says what is known.");
  const ev = d.evaluation;
  return h("div", { class: "card model-card-details" },
    h("h2", {}, `Model card: version ${card.version}`),
    h("h3", {}, "Intended use"),
    h("p", {}, d.intendedUse),
    d.limitations?.length ? h("ul", {}, d.limitations.map((l) => h("li", {}, l))) : null,
    h("h3", {}, "Training data"),
    h("p", {}, `Data set ${card.dataset?.name ?? "–"}`, d.training.backbone ? `, backbone ${d.training.backbone}` : "", "."),
    table(d.training.sources, [
      { label: "source", value: (s) => s.name },
      { label: "licence", value: (s) => s.licence },
    ]),
    h("h3", {}, `Evaluation per group (${ev.split} split, ${ev.n} photos, ${ev.positives} cats)`),
    ev.perGroup.length
      ? table(ev.perGroup, [
        { label: "group", value: (g) => g.group },
        { label: "photos", value: (g) => g.n },
        { label: "cats", value: (g) => g.positives },
        { label: "recall", value: (g) => g.recall },
        { label: "precision", value: (g) => g.precision },
        { label: "called cat", value: (g) => g.positiveRate },
      ])
      : h("p", { class: "muted" }, "No per-group slices."),
    ev.perSource?.length
      ? [h("h3", {}, "Evaluation per source"), table(ev.perSource, [
        { label: "source", value: (s) => s.source },
        { label: "photos", value: (s) => s.n },
        { label: "accuracy", value: (s) => s.accuracy },
      ])]
      : h("p", { class: "muted" }, "Per source: not available (the evaluation report has no per-source slices)."),
    h("h3", {}, "Known failure modes"),
    h("ul", {}, d.failureModes.map((f) => h("li", {}, f))),
    h("h3", {}, "Threshold"),
    h("p", {}, `p(cat) ≥ ${fmt(d.threshold.value)} is a cat: ${d.threshold.how} (precision ${fmt(d.threshold.precision)}, recall ${fmt(d.threshold.recall)} there).`),
    d.threshold.warning ? h("p", {}, h("em", {}, d.threshold.warning)) : null);
}

export function renderRegistry(data) {
  if (!data.versions.length && !data.decisions.length) return emptyState("the model registry is empty.");
  const metricRows = [...data.versions].sort((a, b) => a.version - b.version).flatMap((c) =>
    ["precision", "recall", "f1", "rocAuc"].filter((k) => typeof c.metrics[k] === "number").map((k) => ({ version: `v${c.version}`, metric: data.metricLabels?.[k] ?? k, value: c.metrics[k] })));
  const rollbacks = data.decisions.filter((d) => d.action === "rollback");
  return h("div", {},
    modelCard(data.promoted),
    data.promoted ? modelCardDetails(data.promoted.card) : null,
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
      { label: "trained on", value: (c) => (data.trainedOn?.[c.version]?.synthetic ? "synthetic drawings (demonstration)" : data.trainedOn?.[c.version] ? "photos" : null) },
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
