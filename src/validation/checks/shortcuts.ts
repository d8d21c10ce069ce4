import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus, PropertyName } from '../types.js';
import { PROPERTY_NAMES } from '../types.js';
import { binOf, median, quantileEdges } from '../../stats/quantiles.js';
import { rocAuc } from '../../stats/roc-auc.js';
import { round } from '../../stats/round.js';
import { stratifiedFolds } from '../stats.js';
import { wholeViewShape } from '../../data/whole-view.js';
import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../../model/backbones.js';

interface Item {
  group: string;
  label: number;
  props: Record<PropertyName, number>;
}

/**
 * How well one property alone predicts the group: a cross-validated lookup "quantile bin -> most common group",
 * scored like a predictive power score: 0 = no better than always answering the largest group, 1 = perfect.
 */
export function groupPredictionScore(values: readonly number[], groups: readonly string[], folds: number, bins: number, seed = 'shortcuts'): { score: number; accuracy: number; baseline: number } {
  const n = values.length;
  const distinct = new Set(groups);
  if (n < 2 * folds || distinct.size < 2) return { score: 0, accuracy: 0, baseline: 0 };
  const fold = stratifiedFolds(groups, folds, seed);
  let correct = 0, baseCorrect = 0;
  for (let f = 0; f < folds; f++) {
    const trainIdx: number[] = [], testIdx: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? testIdx : trainIdx).push(i);
    const edges = quantileEdges(trainIdx.map((i) => values[i]), bins);
    const table = new Map<number, Map<string, number>>();
    const overall = new Map<string, number>();
    for (const i of trainIdx) {
      const b = binOf(values[i], edges);
      const t = table.get(b) ?? new Map<string, number>();
      t.set(groups[i], (t.get(groups[i]) ?? 0) + 1);
      table.set(b, t);
      overall.set(groups[i], (overall.get(groups[i]) ?? 0) + 1);
    }
    const argmax = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
    const majority = argmax(overall);
    for (const i of testIdx) {
      const t = table.get(binOf(values[i], edges));
      if ((t ? argmax(t) : majority) === groups[i]) correct++;
      if (majority === groups[i]) baseCorrect++;
    }
  }
  const accuracy = correct / n, baseline = baseCorrect / n;
  return { score: Math.max(0, baseline < 1 ? (accuracy - baseline) / (1 - baseline) : 0), accuracy, baseline };
}

export interface PropertyScore {
  property: PropertyName;
  groupScore: number;
  groupAccuracy: number;
  labelAuc: number;
  /** Median of the property per group: what a chart of the shortcut shows. */
  groupMedians: Record<string, number>;
}

export function scoreProperties(items: readonly Item[], folds: number, bins: number): PropertyScore[] {
  const groups = items.map((m) => m.group);
  const labels = items.map((m) => m.label);
  const groupNames = [...new Set(groups)].sort();
  return PROPERTY_NAMES.map((property) => {
    const values = items.map((m) => m.props[property]);
    const g = groupPredictionScore(values, groups, folds, bins);
    // With one label only the property separates nothing: scored as chance, like a constant property.
    const a = rocAuc(labels, values) ?? 0.5;
    return {
      property,
      groupScore: round(g.score, 3),
      groupAccuracy: round(g.accuracy, 3),
      labelAuc: round(Math.max(a, 1 - a), 3),
      groupMedians: Object.fromEntries(groupNames.map((name) => [name, round(median(values.filter((_, i) => groups[i] === name)), 3)])),
    };
  });
}

/**
 * Shortcut detection: does a single property -- the file's width, height or aspect, or a global appearance
 * statistic -- predict the group or the label on its own? Geometry must never predict it (strict); appearance
 * partly reflects content, so it only warns. When prepared images are given, they are measured too: a geometry
 * shortcut in the files that the prepared images no longer carry is reported as mitigated (warn), while one that
 * survives preparation fails.
 */
export function shortcutsCheck(ctx: CheckContext): CheckResult {
  const cfg = ctx.config.shortcuts;
  const strict = new Set(cfg.strictProperties);
  const flag = (s: PropertyScore) =>
    strict.has(s.property) ? s.groupScore >= cfg.strictScore || s.labelAuc >= cfg.strictAuc : s.groupScore >= cfg.appearanceScore || s.labelAuc >= cfg.appearanceAuc;
  const raw = scoreProperties(ctx.measured, cfg.folds, cfg.bins);
  const prepared = ctx.prepared?.length ? scoreProperties(ctx.prepared, cfg.folds, cfg.bins) : undefined;
  const rawStrict = raw.filter((s) => strict.has(s.property) && flag(s));
  const rawAppearance = raw.filter((s) => !strict.has(s.property) && flag(s));
  const prepStrict = prepared?.filter((s) => strict.has(s.property) && flag(s)) ?? [];
  const prepAppearance = prepared?.filter((s) => !strict.has(s.property) && flag(s)) ?? [];
  const appearance = prepared ? prepAppearance : rawAppearance;
  const describe = (list: PropertyScore[]) =>
    list.map((s) => `${s.property} (group score ${s.groupScore}, label AUC ${s.labelAuc})`).join(', ');
  const medians = (s: PropertyScore) =>
    Object.entries(s.groupMedians).map(([g, v]) => `${g} ${Math.round(v * 100) / 100}`).join(', ');

  let status: CheckStatus = 'pass';
  const parts: string[] = [];
  let mitigated = false;
  if (rawStrict.length) {
    const example = rawStrict[0];
    const shortcut = `${describe(rawStrict)} predict the group/label in the files (median ${example.property}: ${medians(example)})`;
    if (!prepared) {
      status = 'fail';
      parts.push(`SHORTCUT: ${shortcut}; no prepared data given to show that preparation removes it`);
    } else if (prepStrict.length) {
      status = 'fail';
      parts.push(`SHORTCUT: ${shortcut}, and it survives preparation: ${describe(prepStrict)}`);
    } else {
      status = 'warn';
      mitigated = true;
      parts.push(`SHORTCUT in the files: ${shortcut}; mitigated by preparation (every prepared image is ${ctx.preparedSize}x${ctx.preparedSize}; prepared geometry scores 0)`);
    }
  } else if (prepStrict.length) {
    status = 'fail';
    parts.push(`SHORTCUT after preparation: ${describe(prepStrict)}`);
  }
  if (appearance.length) {
    if (status === 'pass') status = 'warn';
    parts.push(`${prepared ? 'prepared' : 'file'} appearance predicts the group/label: ${describe(appearance)}`);
  }
  if (parts.length === 0) {
    const top = [...(prepared ?? raw)].sort((a, b) => b.groupScore - a.groupScore)[0];
    parts.push(`no single property predicts the group or label (highest group score ${top?.groupScore ?? 0} for ${top?.property ?? '-'})`);
  }
  // Only when the model may read whole views: a CNN from scratch (backbone null) reads the square alone.
  const wholeView = ctx.preparedSize && ctx.backbone !== null ? wholeViewGeometry(ctx, cfg.folds, cfg.bins) : null;
  if (wholeView) {
    parts.push(
      `a backbone model's whole view keeps each photo's aspect on a 32 px grid (view aspect: group score ${wholeView.viewAspect.groupScore}, ` +
        `label AUC ${wholeView.viewAspect.labelAuc}), but the backbone's maps are pooled to ${wholeView.headInputs} numbers before the head: ` +
        `the head's input has one shape for every photo (its geometry scores ${wholeView.headInput.groupScore})`,
    );
  }
  return {
    id: 'property-label-correlation',
    title: 'Shortcuts: does one property predict the label or group?',
    status,
    summary: parts.join('; '),
    evidence: {
      // null: there was no geometry shortcut in the files, so there was nothing for preparation to remove.
      mitigatedByPreparation: rawStrict.length ? mitigated : null,
      strictProperties: cfg.strictProperties,
      raw,
      prepared: prepared ?? null,
      preparedSize: ctx.preparedSize ?? null,
      wholeView,
      flagged: { raw: [...rawStrict, ...rawAppearance].map((s) => s.property), prepared: [...prepStrict, ...prepAppearance].map((s) => s.property) },
      thresholds: cfg,
    },
  };
}

/** The backbone's head reads this many pooled features, whatever the shape of the view. */
const HEAD_INPUTS = backboneSpec(DEFAULT_PHOTO_BACKBONE).features;

/**
 * The geometry of what a pretrained-backbone model sees: the whole view of each photo (src/data/whole-view.ts) does
 * keep its aspect, quantised; what reaches the trained head is the pooled feature vector, whose shape is constant.
 * Both are scored like the other geometry properties, so the report shows where the shape stops.
 */
function wholeViewGeometry(ctx: CheckContext, folds: number, bins: number) {
  const size = ctx.preparedSize!;
  const items = ctx.measured.filter((m) => m.props.width > 0 && m.props.height > 0);
  const groups = items.map((m) => m.group);
  const labels = items.map((m) => m.label);
  const score = (values: number[]) => {
    const g = groupPredictionScore(values, groups, folds, bins);
    const a = rocAuc(labels, values) ?? 0.5;
    return { groupScore: round(g.score, 3), labelAuc: round(Math.max(a, 1 - a), 3) };
  };
  const views = items.map((m) => wholeViewShape(m.props.width, m.props.height, size));
  return {
    viewAspect: score(views.map((v) => v.width / v.height)),
    headInput: score(items.map(() => HEAD_INPUTS)),
    headInputs: HEAD_INPUTS,
  };
}
