// Small DOM helpers for the report pages (no implicit library imports: everything the pages draw is built here).

/** Create an element: h("div", {class: "card"}, "text", child, [more children]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Format a number for a table: fixed digits for ratios, grouping for counts; '–' for null. */
export function fmt(v, digits = 3) {
  if (v == null || (typeof v === "number" && !Number.isFinite(v))) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(digits);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function fmtDuration(ms) {
  if (ms == null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  return m < 120 ? `${m.toFixed(1)} min` : `${(m / 60).toFixed(1)} h`;
}

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A coloured status word (pass/warn/fail, finished/failed/crashed/running, promote/reject...). */
export function badge(status) {
  const s = String(status);
  const tone =
    /^(pass|finished|promote|promoted|ok|passed)$/.test(s) ? "good" :
    /^(warn|running|rollback|force-promote)$/.test(s) ? "warn" :
    /^(fail|failed|crashed|reject|error)$/.test(s) ? "bad" : "neutral";
  return h("span", { class: `badge badge-${tone}` }, s);
}

/** "No data yet" block with the command that produces the data. */
export function emptyState(what, command = "areyouacat pipeline deploy") {
  return h("div", { class: "empty-state note" },
    h("p", {}, h("strong", {}, "No data yet"), `: ${what}`),
    h("p", {}, "Run ", h("code", {}, command), " to produce it, then rebuild the reports."));
}

/**
 * A table of rows. columns: [{label, value: row => any, format?: v => string|Node}] or a list of keys.
 */
export function table(rows, columns, { maxRows = 500 } = {}) {
  const cols = columns.map((c) => (typeof c === "string" ? { label: c, value: (r) => r[c] } : c));
  const body = rows.slice(0, maxRows).map((r) =>
    h("tr", {}, cols.map((c) => {
      const v = c.value(r);
      const shown = c.format ? c.format(v, r) : v instanceof Node ? v : fmt(v);
      return h("td", { class: typeof v === "number" ? "num" : null }, shown);
    })));
  const wrap = h("div", { class: "table-wrap" },
    h("table", {}, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c.label)))), h("tbody", {}, body)));
  if (rows.length > maxRows) wrap.append(h("p", { class: "muted" }, `${rows.length - maxRows} more rows not shown`));
  return wrap;
}

/** Key/value list for records such as params or metrics. */
export function keyValues(obj) {
  const entries = Object.entries(obj ?? {});
  if (!entries.length) return h("p", { class: "muted" }, "none");
  return h("dl", { class: "kv" }, entries.map(([k, v]) => [h("dt", {}, k), h("dd", {}, fmt(v))]));
}

export function link(href, text) {
  return h("a", { href }, text);
}
