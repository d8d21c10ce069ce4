import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus } from '../types.js';
import { pct } from '../context.js';
import { crossValidatedProbabilities } from '../softmax.js';
import { rocAuc } from '../../stats/roc-auc.js';
import { round } from '../../stats/round.js';
import { stratifiedFolds } from '../stats.js';
import type { Progress } from '../../progress/index.js';

export const LABEL_MODEL_LIMITS =
  'A linear model on global colour, 8x8 layout and texture statistics: it separates flowers, faces and animals ' +
  'fairly well but confuses cats with dogs and cannot see shape or fur detail, so a candidate means "looks unlike ' +
  'its group to a weak model" -- review the thumbnails; low-probability images are also often just unusual ' +
  '(odd lighting, close-ups). Geometry (width, height, aspect) is deliberately not a feature, so the model cannot ' +
  'use the size shortcut.';

/**
 * Label-error candidates: a k-fold multinomial logistic regression on content features predicts each image's
 * group without having seen it; images whose given group gets a very low probability are listed, worst first.
 */
export async function labelErrorsCheck(ctx: CheckContext, onProgress?: Progress): Promise<CheckResult> {
  const cfg = ctx.config.labelErrors;
  const items = ctx.measured;
  const groupNames = [...new Set(items.map((m) => m.group))].sort();
  const n = items.length, k = groupNames.length;
  const smallest = Math.min(...groupNames.map((g) => items.filter((m) => m.group === g).length));
  if (k < 2 || smallest < cfg.folds) {
    return {
      id: 'label-errors',
      title: 'Label-error candidates',
      status: 'pass',
      summary: `not enough data for a ${cfg.folds}-fold model (${k} groups, smallest has ${Number.isFinite(smallest) ? smallest : 0} images)`,
      evidence: { candidates: [], limits: LABEL_MODEL_LIMITS, thresholds: cfg },
    };
  }
  const d = items[0].props.features.length;
  const x = new Float64Array(n * d);
  items.forEach((m, i) => x.set(m.props.features, i * d));
  const y = Int32Array.from(items.map((m) => groupNames.indexOf(m.group)));
  const fold = stratifiedFolds(items.map((m) => m.group), cfg.folds, cfg.seed);
  const probs = crossValidatedProbabilities(x, y, n, d, k, fold, cfg.folds, { epochs: cfg.epochs, l2: cfg.l2, seed: cfg.seed }, onProgress);

  let correct = 0;
  const perGroup: Record<string, { n: number; correct: number }> = Object.fromEntries(groupNames.map((g) => [g, { n: 0, correct: 0 }]));
  const scored = items.map((m, i) => {
    const row = Array.from(probs.subarray(i * k, (i + 1) * k));
    const predicted = row.indexOf(Math.max(...row));
    if (predicted === y[i]) correct++;
    perGroup[m.group].n++;
    if (predicted === y[i]) perGroup[m.group].correct++;
    return { i, given: row[y[i]], predicted, row };
  });
  const positive = groupNames.indexOf(ctx.config.positiveGroup);
  // Null when there is no positive group or only one label: the area is undefined then.
  const labelAuc = positive >= 0 ? rocAuc(items.map((m) => m.label), scored.map((s) => s.row[positive])) : null;
  const candidates = scored.filter((s) => s.given < cfg.maxGivenProbability).sort((a, b) => a.given - b.given);
  const fraction = n ? candidates.length / n : 0;
  const listed = await Promise.all(
    candidates.slice(0, cfg.maxListed).map(async (s) => {
      const m = items[s.i];
      return {
        path: m.path,
        split: m.split,
        givenGroup: m.group,
        predictedGroup: groupNames[s.predicted],
        givenProbability: round(s.given),
        predictedProbability: round(s.row[s.predicted]),
        labelFlip: positive >= 0 && (m.group === ctx.config.positiveGroup) !== (s.predicted === positive),
        thumbnail: await ctx.thumbnail(m.path),
      };
    }),
  );
  const status: CheckStatus = fraction > cfg.failFraction ? 'fail' : fraction > cfg.warnFraction ? 'warn' : 'pass';
  const summary = candidates.length
    ? `${candidates.length} images (${pct(fraction)}) get p(given group) < ${cfg.maxGivenProbability} from a ${cfg.folds}-fold content model (accuracy ${pct(correct / n)}); worst: ${listed.slice(0, 3).map((c) => `${c.path} ${c.givenGroup}->${c.predictedGroup} ${c.givenProbability}`).join(', ')}`
    : `no image's given group is implausible to a ${cfg.folds}-fold content model (accuracy ${pct(correct / n)}, threshold p < ${cfg.maxGivenProbability})`;
  const confusion = groupNames.map((g, gi) => ({
    group: g,
    predicted: Object.fromEntries(groupNames.map((p, pi) => [p, scored.filter((s) => y[s.i] === gi && s.predicted === pi).length])),
  }));
  return {
    id: 'label-errors',
    title: 'Label-error candidates',
    status,
    summary,
    evidence: {
      model: { kind: 'multinomial logistic regression', features: d, folds: cfg.folds, accuracy: round(correct / n), catAuc: labelAuc === null ? null : round(labelAuc), perGroup, confusion },
      candidateCount: candidates.length,
      fraction: round(fraction),
      candidates: listed,
      limits: LABEL_MODEL_LIMITS,
      thresholds: cfg,
    },
  };
}
