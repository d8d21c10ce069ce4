import { h, fmt, fmtTime, fmtDuration, badge, emptyState, table, keyValues } from "./dom.js";

/** The promoted model's card: version, data, metrics, threshold, when and why it was promoted. */
export function modelCard(promoted) {
  if (!promoted) return emptyState("no model has been promoted.");
  const { card, version, promotedAt, decision, trainedOn, metricLabels = {} } = promoted;
  // Metric keys in words (the data's metricLabels: "rocAuc" is "ROC AUC", "positiveRate.selfie" "selfies called a cat").
  const metrics = Object.fromEntries(Object.entries(card.metrics).filter(([, v]) => typeof v === "number").map(([k, v]) => [metricLabels[k] ?? k, v]));
  return h("div", { class: "card model-card" },
    h("h2", {}, `Promoted model: version ${version}`),
    trainedOn ? h("div", { class: `trained-on${trainedOn.synthetic ? " demonstration" : ""}`, "data-synthetic": String(trainedOn.synthetic),
      style: trainedOn.synthetic ? { borderLeft: "6px solid #e67700", padding: "0.3em 1em", margin: "0.5em 0" } : {} },
      h("p", {}, trainedOn.synthetic ? h("strong", {}, "A demonstration model. ") : null, trainedOn.text),
      trainedOn.demonstration ? h("p", {}, trainedOn.demonstration, " ", h("code", {}, trainedOn.command)) : null) : null,
    h("div", { class: "cards" },
      h("div", {},
        h("h3", {}, "Model"),
        keyValues({
          "image size": `${card.imageSize} × ${card.imageSize}`,
          threshold: `${fmt(card.threshold)} (${card.thresholdStrategy})`,
          "training run": card.runId ?? "–",
          created: fmtTime(card.createdAt),
        })),
      h("div", {},
        h("h3", {}, "Data"),
        keyValues({ "data set": card.dataset?.name ?? "–", "manifest hash": (card.dataset?.manifestHash ?? "").slice(0, 12) || "–" })),
      h("div", {}, h("h3", {}, "Test metrics"), keyValues(metrics))),
    h("h3", {}, "Why it is promoted"),
    h("p", {}, `Promoted ${fmtTime(promotedAt)}`, decision ? [" by decision ", badge(decision.action), decision.user ? ` (${decision.user})` : ""] : ""),
    decision?.userReason ? h("p", {}, h("em", {}, decision.userReason)) : null,
    decision ? h("ul", {}, decision.reasons.map((r) => h("li", {}, r))) : null);
}

export function runsTable(runs, base = "./runs/") {
  return table(runs, [
    { label: "run", value: (r) => r.id, format: (v, r) => h("a", { href: `${base}${r.id}` }, r.name || v) },
    { label: "kind", value: (r) => r.kind },
    { label: "status", value: (r) => r.status, format: (v) => badge(v) },
    { label: "started", value: (r) => r.startedAt, format: (v) => fmtTime(v) },
    { label: "duration", value: (r) => r.durationMs, format: (v) => fmtDuration(v) },
    { label: "data set", value: (r) => r.dataset },
    { label: "test F1", value: (r) => r.metrics.test_f1 ?? r.metrics.f1 ?? null },
    { label: "test ROC AUC", value: (r) => r.metrics.test_rocAuc ?? r.metrics.test_roc_auc ?? r.metrics.rocAuc ?? null },
  ]);
}

export function decisionsTable(decisions) {
  return table(decisions, [
    { label: "time", value: (d) => d.time, format: (v) => fmtTime(v) },
    { label: "action", value: (d) => d.action, format: (v) => badge(v) },
    { label: "candidate", value: (d) => `v${d.candidate}` },
    { label: "before → after", value: (d) => `${d.previous == null ? "none" : "v" + d.previous} → ${d.promoted == null ? "none" : "v" + d.promoted}` },
    { label: "reasons", value: (d) => [d.userReason, ...d.reasons].filter(Boolean).join("; ") },
    { label: "by", value: (d) => d.user ?? "" },
  ]);
}

export function renderOverview(data) {
  return h("div", {},
    modelCard(data.promoted),
    h("h2", {}, "Latest runs"),
    data.latestRuns.length
      ? [runsTable(data.latestRuns), h("p", {}, h("a", { href: "./runs/" }, `All ${data.totalRuns} runs →`))]
      : emptyState("no training runs have been tracked."),
    h("h2", {}, "Gate decisions"),
    data.latestDecisions.length
      ? [decisionsTable(data.latestDecisions), h("p", {}, h("a", { href: "./registry" }, "Model registry →"))]
      : emptyState("the promotion gate has not decided on any model."));
}
