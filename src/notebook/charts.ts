import type { SliceMetrics, SplitEvaluation } from '../evaluation/types.js';
import type { EpochRecord } from '../tracking/types.js';
import type { TrialRecord } from '../tuning/scheduler.js';
import { toSvg } from './vega-render.cjs';

/**
 * Vega-Lite charts for notebooks: spec builders for the charts the notebooks show, and `chartSvg` to render any
 * spec to SVG in Node (show it with `tslab.display.html(svg)`). Builders only reshape library results; they
 * compute no metrics.
 */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Render a Vega-Lite spec to an SVG string. */
export function chartSvg(spec: VegaLiteSpec): Promise<string> {
  return toSvg({ $schema: SCHEMA, ...spec });
}

/** Loss and accuracy per epoch, training against validation (from `readEpochs`). */
export function learningCurveSpec(epochs: EpochRecord[], title = 'Learning curves'): VegaLiteSpec {
  const values = epochs.flatMap((e) =>
    Object.entries(e.metrics)
      .filter(([, v]) => Number.isFinite(v))
      .map(([name, value]) => ({
        epoch: e.epoch,
        value,
        split: name.startsWith('val_') ? 'validation' : 'training',
        metric: name.replace(/^val_/, ''),
      })),
  );
  const panel = (metric: string) => ({
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line', point: true },
    width: 260,
    height: 180,
    title: metric,
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', scale: { zero: false } },
      color: { field: 'split', type: 'nominal' },
    },
  });
  const metrics = [...new Set(values.map((v) => v.metric))].filter((m) => m === 'loss' || m === 'acc' || m === 'accuracy');
  return { title, data: { values }, hconcat: (metrics.length ? metrics : [...new Set(values.map((v) => v.metric))]).map(panel) };
}

/** ROC and precision-recall curves of an evaluated split, with the chosen operating point marked. */
export function rocPrSpec(split: SplitEvaluation, title = `ROC and precision-recall (${split.split})`): VegaLiteSpec {
  const at = split.atThreshold;
  const curve = (values: object[], x: string, y: string, name: string, point: object) => ({
    width: 240,
    height: 240,
    title: name,
    layer: [
      { data: { values }, mark: 'line', encoding: { x: { field: x, type: 'quantitative', scale: { domain: [0, 1] } }, y: { field: y, type: 'quantitative', scale: { domain: [0, 1] } }, order: { field: 'i' } } },
      { data: { values: [point] }, mark: { type: 'point', filled: true, size: 80, color: 'firebrick' }, encoding: { x: { field: x, type: 'quantitative' }, y: { field: y, type: 'quantitative' } } },
    ],
  });
  const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  return {
    title,
    hconcat: [
      curve(split.roc.map((p, i) => ({ ...p, i })), 'fpr', 'tpr', `ROC (AUC ${fmt(split.rocAuc)})`, { fpr: at.falsePositiveRate ?? 0, tpr: at.recall ?? 0 }),
      curve(split.pr.map((p, i) => ({ ...p, i })), 'recall', 'precision', `PR (AP ${fmt(split.prAuc)})`, { recall: at.recall ?? 0, precision: at.precision ?? 0 }),
    ],
  };
}

/** How often each group is called a cat at the chosen threshold (recall for cats, false-alarm rate for the rest). */
export function sliceSpec(slices: SliceMetrics[], title = 'Called a cat, per group'): VegaLiteSpec {
  return {
    title,
    width: 300,
    height: 160,
    data: { values: slices.map((s) => ({ group: s.group, rate: s.positiveRate ?? 0, n: s.n, cats: s.positives > 0 ? 'cats' : 'not cats' })) },
    mark: 'bar',
    encoding: {
      y: { field: 'group', type: 'nominal', sort: null },
      x: { field: 'rate', type: 'quantitative', scale: { domain: [0, 1] }, title: 'share called a cat' },
      color: { field: 'cats', type: 'nominal', title: null },
      tooltip: [{ field: 'group' }, { field: 'rate', format: '.3f' }, { field: 'n' }],
    },
  };
}

/** Distribution of one measured property per group, as overlaid step histograms. */
export function distributionSpec(rows: { group: string; value: number }[], property: string, title = `${property} per group`): VegaLiteSpec {
  return {
    title,
    width: 300,
    height: 150,
    data: { values: rows.filter((r) => Number.isFinite(r.value)) },
    mark: { type: 'line', interpolate: 'step' },
    encoding: {
      x: { field: 'value', type: 'quantitative', bin: { maxbins: 25 }, title: property },
      y: { aggregate: 'count', type: 'quantitative', title: 'images' },
      color: { field: 'group', type: 'nominal' },
    },
  };
}

/** Grouped bars of a count or share per category and series (e.g. images per group and split). */
export function groupedBarSpec(rows: { category: string; series: string; value: number }[], title: string, valueTitle = 'value'): VegaLiteSpec {
  return {
    title,
    data: { values: rows },
    mark: 'bar',
    width: { step: 14 },
    height: 160,
    encoding: {
      x: { field: 'series', type: 'nominal', axis: null },
      column: { field: 'category', type: 'nominal', title: null },
      y: { field: 'value', type: 'quantitative', title: valueTitle },
      color: { field: 'series', type: 'nominal' },
    },
  };
}

/** A line per series over x (e.g. a monitoring measure per day or per batch of predictions). */
export function lineSpec(rows: { x: number | string; y: number; series: string }[], title: string, axes: { x: string; y: string; time?: boolean }): VegaLiteSpec {
  return {
    title,
    width: 420,
    height: 180,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: axes.time ? 'temporal' : 'quantitative', title: axes.x },
      y: { field: 'y', type: 'quantitative', title: axes.y, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Tuning: each trial's best score against each hyperparameter, one panel per hyperparameter. */
export function trialScoresSpec(trials: TrialRecord[], title = 'Trial score against each hyperparameter'): VegaLiteSpec {
  const scored = trials.filter((t) => t.status !== 'failed' && Number.isFinite(t.score));
  const names = [...new Set(scored.flatMap((t) => Object.keys(t.params)))].sort();
  const panel = (name: string) => {
    const numeric = scored.every((t) => typeof t.params[name] === 'number');
    const log = numeric && name.toLowerCase().includes('rate');
    return {
      width: 150,
      height: 130,
      transform: [{ calculate: `datum.params[${JSON.stringify(name)}]`, as: 'x' }],
      mark: { type: 'point', filled: true, size: 60 },
      encoding: {
        x: numeric ? { field: 'x', type: 'quantitative', title: name, scale: { zero: false, ...(log ? { type: 'log' } : {}) } } : { field: 'x', type: 'nominal', title: name },
        y: { field: 'score', type: 'quantitative', scale: { zero: false } },
        color: { field: 'status', type: 'nominal' },
        tooltip: [{ field: 'index' }, { field: 'score', format: '.3f' }, { field: 'x', title: name }],
      },
    };
  };
  const values = scored.map((t) => ({ index: t.index, score: t.score, status: t.status, params: Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : v])) }));
  return { title, data: { values }, columns: 3, concat: names.map(panel) };
}

/** A histogram that was binned already (e.g. the validation report's property distributions): one step line per group. */
export interface BinnedDistribution {
  property: string;
  /** Bin edges: counts[i] counts values in [edges[i], edges[i + 1]). */
  edges: number[];
  series: { group: string; split?: string; counts: number[] }[];
}

/** Draw a pre-binned distribution per group, summing the series of a group over splits. */
export function binnedHistogramSpec(d: BinnedDistribution, title = `${d.property} per group`): VegaLiteSpec {
  const sums = new Map<string, number[]>();
  for (const s of d.series) {
    if (s.counts.length !== d.edges.length - 1) throw new Error(`${d.property}: ${s.counts.length} counts for ${d.edges.length} edges`);
    const acc = sums.get(s.group) ?? new Array<number>(s.counts.length).fill(0);
    s.counts.forEach((c, i) => (acc[i] += c));
    sums.set(s.group, acc);
  }
  const values = [...sums].flatMap(([group, counts]) => counts.map((count, i) => ({ group, x0: d.edges[i], x1: d.edges[i + 1], count })));
  return {
    title,
    width: 260,
    height: 130,
    data: { values },
    mark: { type: 'bar', opacity: 0.45, binSpacing: 0 },
    encoding: {
      x: { field: 'x0', type: 'quantitative', bin: { binned: true }, title: d.property },
      x2: { field: 'x1' },
      y: { field: 'count', type: 'quantitative', stack: null, title: 'images' },
      color: { field: 'group', type: 'nominal' },
    },
  };
}

/** Horizontal bars of one value per label (side by side per colour category when given), with an optional limit rule. */
export function barSpec(rows: { label: string; value: number; color?: string }[], title: string, opts: { valueTitle?: string; limit?: number } = {}): VegaLiteSpec {
  const bars = {
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: opts.valueTitle ?? 'value' },
      ...(rows.some((r) => r.color !== undefined) ? { color: { field: 'color', type: 'nominal', title: null }, yOffset: { field: 'color' } } : {}),
    },
  };
  const rule = { data: { values: [{ limit: opts.limit }] }, mark: { type: 'rule', color: 'firebrick', strokeDash: [4, 3] }, encoding: { x: { field: 'limit', type: 'quantitative' } } };
  return { title, width: 320, height: { step: 16 }, data: { values: rows }, layer: opts.limit === undefined ? [bars] : [bars, rule] };
}
