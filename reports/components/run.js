import { h, fmt, fmtTime, fmtDuration, badge, emptyState, table, keyValues } from "./dom.js";
import { lines, curve, bars, confusion, trialScatter, vl } from "./charts.js";

function section(title, ...body) {
  return h("section", { class: "run-section" }, h("h2", {}, title), ...body);
}

function learningCurves(curves) {
  if (!curves.length) return h("p", { class: "muted" }, "No epochs recorded.");
  // Losses on one chart, rates in [0, 1] (accuracy, AUC...) on another; speeds and times are not curves to judge.
  const isLoss = (m) => /loss/i.test(m);
  const isRate = (m) => /acc|auc|f1|precision|recall/i.test(m);
  const loss = curves.filter((c) => isLoss(c.metric));
  const other = curves.filter((c) => !isLoss(c.metric) && isRate(c.metric));
  return h("div", { class: "charts" },
    loss.length ? lines(loss, { x: "epoch", y: "value", series: "metric", yTitle: "loss", width: 360, points: true }) : null,
    other.length ? lines(other, { x: "epoch", y: "value", series: "metric", yTitle: "metric", width: 360, points: true }) : null);
}

function gallery(examples, caption) {
  if (!examples.length) return h("p", { class: "muted" }, `No ${caption}.`);
  return h("div", { class: "gallery" }, examples.map((e) =>
    h("figure", {},
      e.thumbnail ? h("img", { src: e.thumbnail, alt: e.path }) : h("div", { class: "muted" }, "(no thumbnail)"),
      h("figcaption", {}, `${e.group} · P(cat) ${fmt(e.probability, 2)}`, h("br"), h("span", { class: "muted" }, e.path.split("/").pop())))));
}

const METRIC_WORDS = { precision: "precision", recall: "recall", f1: "F1", rocAuc: "ROC AUC" };

function evaluationSections(ev) {
  const t = ev.test;
  const at = t.atThreshold;
  const sweepRows = t.sweep.flatMap((p) =>
    ["precision", "recall", "f1", "positiveRate"].filter((k) => p[k] != null).map((k) => ({ threshold: p.threshold, metric: k, value: p[k] })));
  const calib = t.calibration.bins.filter((b) => b.count > 0 && b.meanPredicted != null);
  return [
    section("Test metrics",
      h("p", {}, `Threshold ${fmt(ev.threshold.threshold)} chosen on ${ev.threshold.chosenOn} (${ev.threshold.strategy.kind}).`,
        ev.threshold.warning ? [" ", badge("warn"), " ", ev.threshold.warning] : ""),
      keyValues({ images: t.n, cats: t.positives, precision: at.precision, recall: at.recall, f1: at.f1, accuracy: at.accuracy,
        "ROC AUC": t.rocAuc, "PR AUC (average precision)": t.prAuc, "calibration error (ECE)": t.calibration.ece })),
    ev.baseline ? section("Against the zero-shot baseline",
      h("p", {}, `The baseline: ${ev.baseline.description}. Scored on the same test photos, its threshold (${fmt(ev.baseline.threshold)}) chosen on the same validation photos; the gate refuses a model that does not beat it.`),
      bars(["precision", "recall", "f1", "rocAuc"].flatMap((k) => [
        { metric: METRIC_WORDS[k], who: "this model", value: k === "rocAuc" ? t.rocAuc : at[k] },
        { metric: METRIC_WORDS[k], who: "zero-shot baseline", value: ev.baseline.test[k] },
      ]).filter((r) => r.value != null), { x: "metric", y: "value", color: "who", yTitle: "on the test split", domainY: [0, 1], width: 360, height: 200 }),
      table([
        { model: "this model", precision: at.precision, recall: at.recall, f1: at.f1, "ROC AUC": t.rocAuc },
        { model: "zero-shot baseline", precision: ev.baseline.test.precision, recall: ev.baseline.test.recall, f1: ev.baseline.test.f1, "ROC AUC": ev.baseline.test.rocAuc },
      ], ["model", "precision", "recall", "f1", "ROC AUC"])) : null,
    section("Confusion matrix", confusion(at)),
    section("ROC and precision-recall curves",
      h("div", { class: "charts" },
        curve(t.roc, { x: "fpr", y: "tpr", xTitle: "false positive rate", yTitle: "true positive rate", diagonal: true }),
        curve(t.pr, { x: "recall", y: "precision", xTitle: "recall", yTitle: "precision", baseline: t.n ? t.positives / t.n : null }))),
    section("Calibration",
      calib.length ? vl({
        layer: [
          { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: "line", strokeDash: [4, 4], color: "gray" },
            encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } } },
          { data: { values: calib }, mark: { type: "line", point: true, tooltip: true },
            encoding: { x: { field: "meanPredicted", type: "quantitative", title: "mean predicted P(cat)", scale: { domain: [0, 1] } },
                        y: { field: "fractionPositive", type: "quantitative", title: "fraction that are cats", scale: { domain: [0, 1] } } } },
        ],
      }, { width: 300, height: 300 }) : h("p", { class: "muted" }, "No calibration bins.")),
    section("Threshold trade-off",
      vl({
        layer: [
          { data: { values: sweepRows }, mark: { type: "line", tooltip: true },
            encoding: { x: { field: "threshold", type: "quantitative", scale: { domain: [0, 1] } },
                        y: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, title: null },
                        color: { field: "metric", type: "nominal", title: null } } },
          { data: { values: [{ t: ev.threshold.threshold }] }, mark: { type: "rule", strokeDash: [4, 4] },
            encoding: { x: { field: "t", type: "quantitative" } } },
        ],
      }, { width: 520, height: 240 })),
    section("Per-group slices",
      h("p", { class: "muted" }, "For groups without cats the positive rate is how often the group is called a cat."),
      bars(t.slices.map((s) => ({ group: s.group, "called a cat": s.positiveRate, recall: s.recall })).flatMap((s) =>
        [{ group: s.group, measure: "called a cat", value: s["called a cat"] }, ...(s.recall != null ? [{ group: s.group, measure: "recall", value: s.recall }] : [])]),
        { x: "group", y: "value", color: "measure", yTitle: "rate", domainY: [0, 1], width: 360, height: 200 }),
      table(t.slices, [
        { label: "group", value: (s) => s.group }, { label: "photos", value: (s) => s.n }, { label: "cats", value: (s) => s.positives },
        { label: "called a cat", value: (s) => s.predictedPositive }, { label: "share called a cat", value: (s) => s.positiveRate },
        { label: "recall", value: (s) => s.recall }, { label: "precision", value: (s) => s.precision }, { label: "mean P(cat)", value: (s) => s.meanProbability },
      ])),
    section("Error gallery",
      h("h3", {}, "Not cats called cats (most confident first)"), gallery(t.errors.falsePositives, "false positives"),
      h("h3", {}, "Cats missed"), gallery(t.errors.falseNegatives, "missed cats")),
    ev.behaviour ? section("Behaviour checks",
      table(ev.behaviour.checks, [
        { label: "check", value: (c) => c.name },
        { label: "status", value: (c) => (c.passed ? "pass" : "fail"), format: (v) => badge(v) },
        { label: "value", value: (c) => c.value },
        { label: "limit", value: (c) => c.limit },
        { label: "detail", value: (c) => c.detail },
      ])) : null,
  ];
}

function sourcesSection(sources) {
  if (!sources) return null;
  const groups = [...new Set(sources.folds.flatMap((f) => Object.keys(f.heldOut.groups)))].sort();
  return section("Source held out",
    h("p", {}, "Each source left out of training and validation; its own photos scored at the threshold chosen on the rest. ",
      `Worst cat recall ${fmt(sources.summary.minCatRecall)}, worst share of dogs called cats ${fmt(sources.summary.maxDogCalledCat)}.`),
    table(sources.folds, [
      { label: "held-out source", value: (f) => f.source },
      { label: "photos", value: (f) => f.heldOut.n },
      { label: "precision", value: (f) => f.heldOut.precision },
      { label: "recall", value: (f) => f.heldOut.recall },
      ...groups.map((g) => ({ label: `${g} called cat`, value: (f) => f.heldOut.groups[g]?.rate ?? null })),
      { label: "threshold", value: (f) => f.threshold },
      { label: "others' test precision", value: (f) => f.others.precision },
      { label: "others' test recall", value: (f) => f.others.recall },
    ]));
}

function trialsSection(trials) {
  if (!trials.points.length) return null;
  const params = [...new Set(trials.points.flatMap((p) => Object.keys(p.params)))]
    .filter((k) => new Set(trials.points.map((p) => JSON.stringify(p.params[k]))).size > 1);
  return section(`Tuning trials (${trials.points.length})`,
    h("p", {}, `Score: ${trials.metric ?? "none reported"}.`),
    h("div", { class: "charts trials" }, params.map((p) => trialScatter(trials.points, p, trials.metric ?? "score"))),
    table(trials.points, [
      { label: "trial", value: (t) => t.id, format: (v, t) => h("a", { href: `./${t.id}` }, t.name || v) },
      { label: "status", value: (t) => t.status, format: (v) => badge(v) },
      { label: trials.metric ?? "score", value: (t) => t.score },
      ...params.map((p) => ({ label: p, value: (t) => t.params[p] ?? null })),
    ]));
}

/** A fine-tune (continual learning from feedback): from which version, on how much feedback, and what was left out. */
function finetuneNote(tags) {
  if (!tags.finetune) return tags.featureFeedback ? h("p", { class: "muted feature-feedback" }, `Feedback kept as features: ${tags.featureFeedback}.`) : null;
  const from = tags.finetunedFrom ? h("a", { href: "../registry" }, tags.finetunedFrom) : null;
  return h("div", { class: "card finetune" },
    h("p", {}, h("strong", {}, tags.finetune.replace(/^f/, "F")), from ? [" (the promoted ", from, " when it ran)"] : "", "."),
    keyValues({ feedback: tags.featureFeedback ?? null, replay: tags.replay ?? null, "per-client cap": tags.perClientCap ?? null }));
}

export function renderRun(data) {
  if (!data.found) return emptyState(`there is no run ${data.id}.`);
  const r = data.run;
  return h("div", {},
    h("p", {}, badge(r.status), ` ${r.kind} run · started ${fmtTime(r.startedAt)} · ${fmtDuration(r.durationMs)}`,
      r.parentId ? [" · part of ", h("a", { href: `./${r.parentId}` }, r.parentId)] : ""),
    data.error ? h("p", {}, badge("error"), " ", data.error) : null,
    finetuneNote(data.tags ?? {}),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("h3", {}, "Parameters"), keyValues(data.params),
        data.unusedParams?.length ? h("p", { class: "muted unused-params" }, `A model on the pretrained ${data.params.backbone} backbone: the head's settings are shown; the conv-block settings it does not use are left out.`) : null),
      h("div", { class: "card" }, h("h3", {}, "Final metrics"), keyValues(r.metrics)),
      h("div", { class: "card" }, h("h3", {}, "Environment"),
        keyValues({ "data set": r.dataset, backend: data.backend, commit: data.git?.commit?.slice(0, 10) ?? null,
          "uncommitted changes": data.git?.dirty ?? null, ...Object.fromEntries(Object.entries(data.timings).map(([k, v]) => [`${k} time`, fmtDuration(v)])) }))),
    section("Learning curves", learningCurves(data.curves)),
    trialsSection(data.trials),
    sourcesSection(data.sources),
    data.evaluation ? evaluationSections(data.evaluation)
      : data.trials.points.length || data.sources ? null : section("Evaluation", h("p", { class: "muted" }, "This run has no evaluation report.")),
    data.artifacts.length ? section("Artifacts", table(data.artifacts, ["name", "kind", "bytes"])) : null);
}
