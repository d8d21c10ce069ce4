import { h, emptyState, fmt, fmtTime, keyValues, table } from "./dom.js";
import { vl } from "./charts.js";

const TONE = { ok: "good", warn: "warn", alert: "bad", "insufficient-data": "neutral", unavailable: "neutral" };
const ROW_TINT = { warn: "rgba(255, 212, 59, 0.18)", alert: "rgba(250, 82, 82, 0.18)" };

function status(s) {
  return h("span", { class: `badge badge-${TONE[s] ?? "neutral"}`, "data-status": s }, s);
}

/** A section heading with its status word and, when the monitor gave one, the reason (e.g. not enough samples). */
function sectionHead(title, section) {
  return [
    h("h2", {}, title, " ", status(section.status)),
    section.reason ? h("p", { class: "muted section-reason" }, section.reason) : null,
  ];
}

/** The report's verdict (data.verdict, made by the library): alerts, warnings, ok, or not judged yet. */
function banner(report, verdict) {
  const { alerts = [], warnings = [] } = report;
  if (verdict && verdict.tone === "not-judged") {
    return h("div", { class: "monitoring-banner monitoring-not-judged note", "data-tone": verdict.tone, style: { borderLeft: "6px solid #868e96", padding: "0.6em 1em" } },
      h("strong", {}, verdict.headline), ": ", verdict.detail);
  }
  if (!alerts.length && !warnings.length) {
    return h("div", { class: "monitoring-banner monitoring-ok note", "data-tone": "ok", style: { borderLeft: "6px solid #2b8a3e", padding: "0.6em 1em" } },
      h("strong", {}, verdict?.headline ?? "All checks ok"), ": ", verdict?.detail ?? "no alerts and no warnings in this report.");
  }
  const critical = alerts.length > 0;
  const item = (a) => h("li", {}, h("code", {}, a.id), " ", a.message,
    a.value != null ? h("span", { class: "muted" }, ` (value ${fmt(a.value)}, threshold ${fmt(a.threshold)})`) : null);
  return h("div", {
    class: `monitoring-banner ${critical ? "monitoring-alert" : "monitoring-warning"}`,
    role: "alert",
    style: {
      border: `2px solid ${critical ? "#c92a2a" : "#e67700"}`, background: critical ? "rgba(250, 82, 82, 0.12)" : "rgba(255, 212, 59, 0.15)",
      borderRadius: "6px", padding: "0.6em 1em", margin: "1em 0",
    },
  },
    h("p", { style: { fontSize: "1.2em", margin: "0 0 0.3em" } },
      h("strong", {}, critical ? `ALERT: ${alerts.length} critical ${alerts.length === 1 ? "alert" : "alerts"}` : "WARNING"),
      warnings.length ? ` and ${warnings.length} ${warnings.length === 1 ? "warning" : "warnings"}` : ""),
    alerts.length ? h("ul", { class: "alerts" }, alerts.map(item)) : null,
    warnings.length ? [h("p", { style: { margin: "0.3em 0 0" } }, h("strong", {}, "Warnings")), h("ul", { class: "warnings" }, warnings.map(item))] : null);
}

function driftView(drift, thresholds) {
  const rows = drift.rows ?? [];
  return h("section", { class: "monitoring-drift" },
    sectionHead("Input drift", drift),
    h("p", {}, drift.reference
      ? `${fmt(drift.n)} measured incoming photos against ${fmt(drift.reference.n)} training photos of data set ${drift.reference.dataset}.`
      : `${fmt(drift.n)} measured incoming photos.`,
      thresholds?.drift ? h("span", { class: "muted" }, ` Warn at KS > ${thresholds.drift.ksWarn} or PSI > ${thresholds.drift.psiWarn}, alert at KS > ${thresholds.drift.ksAlert} or PSI > ${thresholds.drift.psiAlert} (KS counts when p < ${thresholds.drift.maxPValue}).`) : null),
    rows.length ? (() => {
      const wrap = table(rows, [
        { label: "property", value: (r) => r.property },
        { label: "KS", value: (r) => r.ks },
        { label: "p-value", value: (r) => r.pValue, format: (v) => (v == null ? "–" : Number(v).toPrecision(3)) },
        { label: "PSI", value: (r) => r.psi },
        { label: "training median", value: (r) => r.referenceMedian },
        { label: "current median", value: (r) => r.currentMedian },
        { label: "status", value: (r) => status(r.status) },
      ]);
      wrap.querySelectorAll("tbody tr").forEach((tr, i) => {
        const s = rows[i].status;
        if (s !== "ok") { tr.style.background = ROW_TINT[s] ?? ""; tr.classList.add(`drift-${s}`); }
      });
      return wrap;
    })() : null);
}

function predictionView(pr) {
  const hist = pr.histogram;
  const bars = [];
  if (hist) {
    for (let i = 0; i < hist.current.length; i++) {
      const bin = `${fmt(hist.edges[i], 2)}–${fmt(hist.edges[i + 1], 2)}`;
      if (hist.reference) bars.push({ bin, order: i, series: "reference (test split)", share: hist.reference[i] });
      bars.push({ bin, order: i, series: "current (served)", share: hist.current[i] });
    }
  }
  return h("section", { class: "monitoring-predictions" },
    sectionHead("Prediction shift", pr),
    keyValues({ predictions: pr.n, "called cat": pr.positiveRate, "mean p(cat)": pr.meanProbability, PSI: pr.psi, reference: pr.referenceSource ?? "none" }),
    bars.length ? vl({
      data: { values: bars },
      mark: { type: "bar", tooltip: true },
      encoding: {
        x: { field: "bin", type: "ordinal", sort: { field: "order" }, title: "p(cat)", axis: { labelAngle: -40 } },
        y: { field: "share", type: "quantitative", title: "share of predictions", axis: { format: "%" } },
        color: { field: "series", type: "nominal", title: null, legend: { orient: "top" } },
        xOffset: { field: "series" },
      },
    }, { width: 560, height: 220 }) : null);
}

function feedbackView(f) {
  return h("section", { class: "monitoring-feedback", "data-answers": f.n },
    sectionHead("Real-world precision and recall (feedback)", f),
    keyValues({ answers: f.n, precision: f.precision, recall: f.recall, accuracy: f.accuracy }),
    table([
      { actual: "cat", "predicted cat": f.tp, "predicted not cat": f.fn },
      { actual: "not cat", "predicted cat": f.fp, "predicted not cat": f.tn },
    ], ["actual", "predicted cat", "predicted not cat"]));
}

const SERVING_SOURCE = { server: "the running server's own counters", url: "scraped from the server's /metrics", snapshot: "the metrics snapshot the server saves" };

function servingView(s) {
  return h("section", { class: "monitoring-serving", "data-source": s.source ?? "none", "data-requests": s.requests },
    sectionHead("Serving", s),
    keyValues({
      source: SERVING_SOURCE[s.source] ?? s.source ?? "none", "numbers taken": s.at ? fmtTime(s.at) : null, requests: s.requests,
      "5xx errors": s.errors5xx, "4xx errors": s.errors4xx, "error rate": s.errorRate,
      "refused (429/503)": s.refused ?? 0, "answered predictions p50 (ms)": s.p50Ms, "answered predictions p95 (ms)": s.p95Ms, "model version served": s.modelVersion,
      "feedback queue depth": s.feedbackQueueDepth,
    }));
}

function reportView(report, verdict) {
  const m = report.model;
  return h("div", { class: "monitoring-report" },
    banner(report, verdict),
    h("p", { class: "monitoring-meta" },
      `Report made ${fmtTime(report.createdAt)} for `,
      m ? h("strong", {}, `model version ${m.version}`) : h("strong", {}, "no promoted model"),
      m?.promotedVersion != null ? ` (the version answering; v${m.promotedVersion} is promoted but failed to load)` : "",
      m ? ` (threshold ${fmt(m.threshold)}, ${m.imageSize}px, data set ${m.dataset ?? "–"})` : "",
      report.window ? `, over the ${report.window.days} days since ${report.window.sinceDay}.` : "."),
    driftView(report.drift, report.thresholds),
    predictionView(report.predictions),
    feedbackView(report.feedback),
    servingView(report.serving));
}

function daysView(days) {
  const long = days.flatMap((d) => [
    ["predictions", d.predictions], ["feedback answers", d.feedback],
  ].map(([series, value]) => ({ day: d.day, series, value })));
  const rates = days.flatMap((d) => [
    ["called cat", d.positiveRate], ["mean p(cat)", d.meanProbability], ["feedback agreeing", d.feedbackAgreement],
  ].filter(([, v]) => v != null).map(([series, value]) => ({ day: d.day, series, value })));
  const line = (values, title, extra = {}) => vl({
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "day", type: "ordinal", title: null, axis: { labelAngle: -30 } },
      y: { field: "value", type: "quantitative", title, ...extra },
      color: { field: "series", type: "nominal", title: null },
    },
  }, { width: 560, height: 180 });
  return h("section", { class: "monitoring-days" },
    h("h2", {}, "Over time"),
    h("p", { class: "muted" }, "Daily summaries of the served model's prediction and feedback logs."),
    line(long, "per day"),
    line(rates, "share", { scale: { domain: [0, 1] } }),
    table([...days].reverse(), [
      { label: "day", value: (d) => d.day },
      { label: "predictions", value: (d) => d.predictions },
      { label: "called cat", value: (d) => d.positiveRate },
      { label: "mean p(cat)", value: (d) => d.meanProbability },
      { label: "p95 latency (ms)", value: (d) => d.p95LatencyMs },
      { label: "feedback", value: (d) => d.feedback },
      { label: "feedback agreeing", value: (d) => d.feedbackAgreement },
    ]));
}

/** The last hours of served predictions: request rate, latency percentiles; the error rate from the server's counters. */
function hoursView(hours, serving) {
  const rate = hours.map((x) => ({ hour: x.hour, series: "predictions per hour", value: x.predictions }));
  const latency = hours.flatMap((x) => [["p50", x.p50LatencyMs], ["p95", x.p95LatencyMs], ["p99", x.p99LatencyMs]]
    .filter(([, v]) => v != null).map(([series, value]) => ({ hour: x.hour, series, value })));
  const chart = (values, title) => vl({
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "hour", type: "temporal", title: null, axis: { format: "%H:%M" } },
      y: { field: "value", type: "quantitative", title },
      color: { field: "series", type: "nominal", title: null },
    },
  }, { width: 560, height: 160 });
  const total = hours.reduce((a, x) => a + x.predictions, 0);
  return h("section", { class: "monitoring-hours" },
    h("h2", {}, `The last ${hours.length} hours`),
    h("p", { "data-predictions": total }, `${fmt(total)} predictions in the last ${hours.length} hours`,
      serving?.errorRate != null ? `; error rate ${(serving.errorRate * 100).toFixed(2)}% (5xx answers of ${fmt(serving.requests)} requests since the server started)` : "", "."),
    h("div", { class: "charts" }, chart(rate, "requests per hour"), latency.length ? chart(latency, "predict latency (ms)") : null));
}

const pct = (x) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;

/**
 * The server's counters minute by minute over the last hours (only from the running server): request rate, predict
 * latency percentiles and the share of answers that were errors, server (5xx) and client (4xx) errors apart.
 */
function servingHistoryView(history) {
  const buckets = history.buckets ?? [];
  const sum = (key) => buckets.reduce((a, b) => a + (b[key] ?? 0), 0);
  const requests = sum("requests"), errors4xx = sum("errors4xx"), errors5xx = sum("errors5xx"), predictions = sum("predictions");
  const perMinute = history.bucketSeconds === 60 ? "per minute" : `per ${history.bucketSeconds} s`;
  // The minute in progress has only the counts so far: a point of its own, not the end of the line (a dip to zero).
  const rate = buckets.flatMap((b) => [
    { minute: b.start, series: "API requests", value: b.requests, partial: b.partial === true },
    { minute: b.start, series: "predictions", value: b.predictions, partial: b.partial === true },
  ]);
  const inProgress = buckets.find((b) => b.partial)?.start ?? null;
  const latency = buckets.flatMap((b) => [["median", b.p50Ms], ["95th percentile", b.p95Ms], ["99th percentile", b.p99Ms]]
    .filter(([, v]) => v != null).map(([series, value]) => ({ minute: b.start, series, value })));
  const errors = buckets.filter((b) => b.requests > 0).flatMap((b) => [
    { minute: b.start, series: "server errors (5xx)", value: b.errors5xx / b.requests, count: b.errors5xx, requests: b.requests },
    { minute: b.start, series: "client errors (4xx)", value: b.errors4xx / b.requests, count: b.errors4xx, requests: b.requests },
  ]);
  const few = buckets.length <= 90;
  // Minutes the server was not running have no bucket: a point without a value there breaks each line.
  const step = history.bucketSeconds * 1000;
  const gaps = buckets.slice(1).filter((b, i) => Date.parse(b.start) - Date.parse(buckets[i].start) > step)
    .map((b) => new Date(Date.parse(b.start) - step).toISOString());
  const withGaps = (values) => [...values, ...gaps.flatMap((minute) => [...new Set(values.map((v) => v.series))].map((series) => ({ minute, series, value: null })))];
  // One time axis for the three charts, at least half an hour wide (a shorter one repeats the same minute in its labels).
  const last = buckets.length ? Date.parse(buckets[buckets.length - 1].start) + step : 0;
  const first = buckets.length ? Math.min(Date.parse(buckets[0].start), last - 30 * 60_000) : 0;
  const line = { type: "line", point: few, tooltip: true, invalid: "break-paths-show-domains" };
  const chart = (values, title, order, { share = false, partial = false, counts = false } = {}) => vl({
    data: { values: withGaps(values) },
    ...(partial
      ? {
        layer: [
          { transform: [{ filter: "!datum.partial" }], mark: line },
          {
            transform: [{ filter: "datum.partial" }],
            mark: { type: "point", filled: false, size: 70, strokeDash: [2, 2], tooltip: true },
            encoding: {
              tooltip: [
                { field: "minute", type: "temporal", title: "minute (in progress)", format: "%H:%M" },
                { field: "series", title: "what" },
                { field: "value", type: "quantitative", title: "so far" },
              ],
            },
          },
        ],
      }
      : { mark: line }),
    encoding: {
      x: { field: "minute", type: "temporal", title: null, axis: { format: "%H:%M" }, scale: { domain: [first, last] } },
      // A share axis reads 0%-1% at least, in whole tenths of a percent: all-zero minutes no longer print "0.000000%".
      y: {
        field: "value", type: "quantitative", title,
        ...(share ? { axis: { format: ".1%", tickCount: 4 }, scale: { domain: [0, Math.max(0.01, ...values.map((v) => v.value ?? 0))], nice: false } } : {}),
        // Counts are whole numbers from 0 up (an all-zero line read "0.000000" on its axis).
        ...(counts ? { axis: { format: "~s", tickMinStep: 1 }, scale: { domain: [0, Math.max(1, ...values.map((v) => v.value ?? 0))] } } : {}),
      },
      color: { field: "series", type: "nominal", title: null, sort: order, scale: { domain: order }, legend: { orient: "top" } },
      tooltip: [
        { field: "minute", type: "temporal", title: "minute", format: "%H:%M" },
        { field: "series", title: "what" },
        share ? { field: "value", type: "quantitative", title: "share of requests", format: ".1%" } : { field: "value", type: "quantitative", title },
        ...(share ? [{ field: "count", title: "answers" }, { field: "requests", title: "requests" }] : []),
      ],
    },
  }, { width: 560, height: 160 });
  const span = buckets.length
    ? (Date.parse(buckets[buckets.length - 1].start) - Date.parse(buckets[0].start)) / 60_000 + history.bucketSeconds / 60 : 0;
  const spanText = span >= 120 ? `${Math.round(span / 60)} hours` : `${Math.round(span)} ${span === 1 ? "minute" : "minutes"}`;
  const part = (label, chartEl, attrs = {}) => h("figure", { class: "serving-history-chart", ...attrs, style: { margin: "0.8em 0" } },
    h("figcaption", { class: "muted" }, label), chartEl);
  return h("section", { class: "monitoring-history", "data-requests": requests, "data-errors-4xx": errors4xx, "data-errors-5xx": errors5xx },
    h("h2", {}, "Serving, minute by minute"),
    h("p", {}, `Over the last ${spanText} (at most ${history.hours} hours are kept, across restarts): ${fmt(requests)} API requests and ${fmt(predictions)} predictions; `,
      requests ? `${fmt(errors5xx)} answered with a server error (${pct(errors5xx / requests)}) and ${fmt(errors4xx)} with a client error such as an unreadable photo (${pct(errors4xx / requests)}).`
        : "no requests yet.",
      h("span", { class: "muted" }, " A gap in a line is time the server was not running.")),
    h("div", { class: "charts" },
      part(`Request rate: API requests (including the Open Inference Protocol's /v2 routes) and predictions ${perMinute}.${inProgress ? " The minute in progress is a hollow point with its counts so far, not part of the line." : ""}`,
        chart(rate, perMinute, ["API requests", "predictions"], { partial: true, counts: true }), { "data-chart": "request-rate", "data-partial-minute": inProgress }),
      latency.length ? part("Latency of a prediction request (ms): median, 95th and 99th percentile of each minute.", chart(latency, "latency (ms)", ["median", "95th percentile", "99th percentile"]), { "data-chart": "latency" }) : null,
      errors.length ? part("Error rate: the share of each minute's requests answered with an error, server errors (5xx) and client errors (4xx) apart.",
        chart(errors, "share of requests", ["server errors (5xx)", "client errors (4xx)"], { share: true }),
        { "data-chart": "error-rate", class: "serving-history-chart serving-error-rate", "data-errors-4xx": errors4xx, "data-errors-5xx": errors5xx, "data-requests": requests }) : null));
}

/**
 * The monitoring page. Served by `areyouacat serve`, it reads the current numbers from `GET /api/monitoring`
 * and refreshes them every `refreshMs`; served as static files it shows the report the site was built with.
 */
export function liveMonitoring(initial, { refreshMs = 30_000, url = "/api/monitoring" } = {}) {
  const root = h("div", { class: "monitoring", "data-source": "file" });
  const show = (data, note) => {
    root.replaceChildren(h("p", { class: "muted monitoring-source", "aria-live": "polite" }, note), renderMonitoring(data));
    root.dataset.source = data.source ?? "file";
    root.dataset.updated = new Date().toISOString();
  };
  show(initial, initial.report
    ? `The last saved report (made ${fmtTime(initial.report.createdAt)}), as the site was built. Served by areyouacat serve, this page shows live numbers.`
    : "As the site was built. Served by areyouacat serve, this page shows live numbers.");
  let timer = null;
  const refresh = async () => {
    if (!root.isConnected && timer) return clearInterval(timer);
    try {
      const res = await fetch(url, { headers: { accept: "application/json" } });
      if (!res.ok || !/json/.test(res.headers.get("content-type") ?? "")) return false;
      const data = await res.json();
      if (!data || data.source !== "server") return false;
      show(data, `Live from the server: report made ${fmtTime(data.report?.createdAt)}; refreshed every ${Math.round(refreshMs / 1000)} s.`);
      return true;
    } catch {
      return false;
    }
  };
  refresh().then((live) => { if (live) timer = setInterval(refresh, refreshMs); });
  return root;
}

export function renderMonitoring(data) {
  const problems = data.problems?.length ? h("ul", { class: "problems" }, data.problems.map((p) => h("li", {}, p))) : null;
  if (!data.report && !data.days?.length) {
    return h("div", {}, problems,
      emptyState("no monitoring data yet: the served model has not logged predictions or feedback, and no monitoring report has been made.", "areyouacat monitor"),
      h("p", {}, "Run ", h("code", {}, "areyouacat monitor"), " while ", h("code", {}, "areyouacat serve"), " runs, after ",
        h("code", {}, "areyouacat pipeline deploy"), " has promoted a model."));
  }
  return h("div", {}, problems,
    data.report ? reportView(data.report, data.verdict)
      : h("div", { class: "note" }, h("p", {}, h("strong", {}, "No monitoring report yet"), ": run ", h("code", {}, "areyouacat monitor"),
        " while ", h("code", {}, "areyouacat serve"), " runs, then rebuild the reports.")),
    data.servingHistory?.buckets?.length ? servingHistoryView(data.servingHistory) : null,
    data.hours?.some((x) => x.predictions > 0) ? hoursView(data.hours, data.report?.serving) : null,
    data.days?.length ? daysView(data.days) : null);
}
