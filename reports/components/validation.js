import { h, fmt, fmtTime, badge, emptyState, table, keyValues } from "./dom.js";
import { vl } from "./charts.js";

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);
const isPrim = (v) => v == null || typeof v !== "object";

/** Property distributions per split and group: one small chart per property (share of images per bin). */
function distributions(list) {
  return h("div", { class: "charts distributions" }, list.map((d) => {
    const rows = d.series.flatMap((s) => s.counts.map((c, i) => ({
      x: (d.edges[i] + d.edges[i + 1]) / 2, share: s.n ? c / s.n : 0, group: s.group, split: s.split,
    })));
    return vl({
      title: d.property,
      data: { values: rows },
      mark: { type: "line", interpolate: "step", tooltip: true },
      encoding: {
        x: { field: "x", type: "quantitative", title: d.property },
        y: { field: "share", type: "quantitative", title: "share of images" },
        color: { field: "group", type: "nominal" },
        strokeDash: { field: "split", type: "nominal" },
      },
    }, { width: 260, height: 150 });
  }));
}

function thumb(m, caption) {
  return h("figure", {},
    m.thumbnail ? h("img", { src: m.thumbnail, alt: m.path }) : h("div", { class: "muted" }, "(no thumbnail)"),
    h("figcaption", {}, caption ?? [`${m.group ?? ""} · ${m.split ?? ""}`, h("br"), h("span", { class: "muted" }, String(m.path ?? "").split("/").pop())]));
}

/** Duplicate clusters: members side by side. */
function clusters(list) {
  const shown = list.filter((c) => c.members?.some((m) => m.thumbnail)).slice(0, 20);
  return h("div", {},
    h("div", { class: "gallery" }, shown.map((c) =>
      h("div", { class: "pair" }, c.members.slice(0, 6).map((m) => thumb(m)),
        h("div", { class: "muted" }, `${c.kind} · distance ${c.maxDistance}`)))),
    table(list, [
      { label: "kind", value: (c) => c.kind },
      { label: "images", value: (c) => c.members.length },
      { label: "splits", value: (c) => c.splits.join(", ") },
      { label: "groups", value: (c) => c.groups.join(", ") },
      { label: "files", value: (c) => c.members.map((m) => m.path).join(" · ") },
    ], { maxRows: 50 }));
}

function gallery(list) {
  // Only images that have a thumbnail (one unreadable file is named in the table, not shown as an empty frame).
  const shown = list.filter((m) => m.thumbnail).slice(0, 60);
  const rest = list.length - shown.length;
  return h("div", {},
    h("div", { class: "gallery" }, shown.map((m) =>
      thumb(m, m.givenGroup ? [`given ${m.givenGroup} → ${m.predictedGroup}`, h("br"), `p(given) ${fmt(m.givenProbability, 2)}`] : undefined))),
    rest > 0 ? h("p", { class: "muted" }, `${rest} more ${rest === 1 ? "image is" : "images are"} listed in the details below.`) : null);
}

const isImageList = (v) => Array.isArray(v) && v.some((x) => isObj(x) && x.thumbnail);

function cell(v) {
  if (isPrim(v)) return v;
  if (Array.isArray(v) && v.every(isPrim)) return v.map((x) => fmt(x)).join(", ");
  if (Array.isArray(v) && v.every(isObj)) return `${v.length} item${v.length === 1 ? "" : "s"}`;
  return JSON.stringify(v);
}

/** Lists of images inside records (e.g. each property's outliers), one gallery per list, named by the record. */
function nestedGalleries(list) {
  const keys = [...new Set(list.flatMap((r) => Object.keys(r)))];
  return h("div", {}, list.flatMap((r) => keys.filter((k) => isImageList(r[k])).map((k) => {
    const label = Object.values(r).find((x) => typeof x === "string") ?? "";
    return h("div", {}, h("h5", {}, `${label}: ${k}`), gallery(r[k]));
  })));
}

/** A table of records (their image lists are shown as galleries above the raw details). */
function objectsTable(list) {
  const keys = [...new Set(list.flatMap((r) => Object.keys(r)))].filter((k) => k !== "thumbnail");
  return table(list, keys.map((k) => ({ label: k, value: (r) => cell(r[k]) })), { maxRows: 100 });
}

const isDistributions = (key, v) => key === "distributions" && Array.isArray(v) && v[0]?.edges && v[0]?.series;
const isClusters = (v) => Array.isArray(v) && v[0]?.members;

/** Share of each group per split against the target mix (group balance). */
function balanceChart(rows) {
  return vl({
    data: { values: rows.map((r) => ({ split: r.split, group: r.group, share: r.share, target: r.target })) },
    layer: [
      { mark: { type: "bar", tooltip: true }, encoding: { x: { field: "split", type: "nominal", title: null }, xOffset: { field: "group" }, y: { field: "share", type: "quantitative", title: "share of images", axis: { format: "%" } }, color: { field: "group", type: "nominal" } } },
      { mark: { type: "tick", color: "black", thickness: 2 }, encoding: { x: { field: "split", type: "nominal" }, xOffset: { field: "group" }, y: { field: "target", type: "quantitative" } } },
    ],
  }, { width: 420, height: 160 });
}

/** KS statistic of each property's shift from train to each other split (property drift). */
function driftChart(rows) {
  return vl({
    data: { values: rows.map((r) => ({ property: r.property, split: `${r.reference} → ${r.split}`, ks: r.ks })) },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "property", type: "nominal", title: null },
      yOffset: { field: "split" },
      x: { field: "ks", type: "quantitative", title: "KS statistic (0 = same distribution)" },
      color: { field: "split", type: "nominal", title: null },
    },
  }, { width: 420, height: 200 });
}

const isBalanceRows = (v) => Array.isArray(v) && v.length && v.every((r) => isObj(r) && "split" in r && "group" in r && typeof r.share === "number" && typeof r.target === "number");
const isDriftRows = (v) => Array.isArray(v) && v.length && v.every((r) => isObj(r) && "property" in r && typeof r.ks === "number" && "split" in r);

/** The charts and image galleries of a check's evidence (distributions, balance, drift, duplicate clusters, listed images). */
function visuals(ev) {
  return Object.entries(ev).flatMap(([k, v]) => {
    if (k === "rows" && isBalanceRows(v)) return [balanceChart(v)];
    if (k === "rows" && isDriftRows(v)) return [driftChart(v)];
    if (isDistributions(k, v)) return [distributions(v)];
    if (isClusters(v)) return [clusters(v)];
    if (isImageList(v)) return [h("div", {}, gallery(v))];
    // Records holding lists of images (e.g. each property's outliers): one gallery per list.
    if (Array.isArray(v) && v.some((r) => isObj(r) && Object.values(r).some(isImageList))) return [nestedGalleries(v)];
    return [];
  });
}

/** Render one evidence value (raw details), choosing a table or a key/value list by its shape; charts and galleries are shown above. */
function evidenceValue(key, v, depth) {
  if (Array.isArray(v)) {
    if (!v.length) return h("p", { class: "muted" }, `${key}: none`);
    if (v.every(isPrim)) return h("p", {}, h("strong", {}, `${key}: `), v.map((x) => fmt(x)).join(", "));
    if (isDistributions(key, v) || isClusters(v)) return null;
    return h("div", {}, h(depth ? "h5" : "h4", {}, key), objectsTable(v));
  }
  // A record of records with plain values (e.g. per group): one table row per key.
  if (isObj(v) && Object.keys(v).length && Object.values(v).every((r) => isObj(r) && Object.values(r).every(isPrim))) {
    return h("div", {}, h(depth ? "h5" : "h4", {}, key), objectsTable(Object.entries(v).map(([k, r]) => ({ "": k, ...r }))));
  }
  if (isObj(v)) {
    const inner = evidence(v, depth + 1);
    if (key === "thresholds" || key === "limits" || key === "config") return h("details", {}, h("summary", {}, key), inner);
    return h("div", { class: "evidence-part" }, h(depth ? "h5" : "h4", {}, key), inner);
  }
  return null;
}

function evidence(ev, depth = 0) {
  const scalars = Object.fromEntries(Object.entries(ev).filter(([, v]) => isPrim(v)));
  const nested = Object.entries(ev).filter(([, v]) => !isPrim(v));
  return h("div", {},
    Object.keys(scalars).length ? keyValues(scalars) : null,
    nested.map(([k, v]) => evidenceValue(k, v, depth)));
}

/** A check's plain facts in words (from src/site/validation.ts), as a definition list. */
function factList(facts) {
  if (!facts?.length) return null;
  return h("dl", { class: "kv check-facts" }, facts.flatMap((f) => [h("dt", {}, f.label), h("dd", {}, f.value)]));
}

function renderReport({ dataset, report, facts = {} }) {
  return h("section", {},
    h("h2", {}, `Data set ${dataset}`),
    h("p", {}, `Validated ${fmtTime(report.createdAt)}: `, badge("pass"), ` ${report.summary.pass} `, badge("warn"), ` ${report.summary.warn} `, badge("fail"), ` ${report.summary.fail}`),
    keyValues(report.counts),
    table(report.checks, [
      { label: "check", value: (c) => c.title, format: (v, c) => h("a", { href: `#check-${dataset}-${c.id}` }, v) },
      { label: "status", value: (c) => c.status, format: (v) => badge(v) },
      { label: "summary", value: (c) => c.summary },
    ]),
    report.checks.map((c) => h("div", { class: "check", id: `check-${dataset}-${c.id}` },
      h("h3", {}, badge(c.status), " ", c.title, h("span", { class: "muted" }, ` (${c.id})`)),
      h("p", { class: "check-summary" }, c.summary),
      factList(facts[c.id]),
      visuals(c.evidence ?? {}),
      h("details", { class: "check-raw" }, h("summary", {}, "Raw evidence"), evidence(c.evidence ?? {})))));
}

export function renderValidation(data) {
  if (!data.reports.length) return h("div", {},
    data.unreadable.map((u) => h("p", {}, badge("error"), ` ${u.dataset}: ${u.problem}`)),
    emptyState("no data set has been validated."));
  return h("div", {},
    data.unreadable.map((u) => h("p", {}, badge("error"), ` ${u.dataset}: ${u.problem}`)),
    data.reports.map(renderReport));
}
