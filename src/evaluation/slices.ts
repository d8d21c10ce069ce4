import type { ErrorExample, ErrorGallery, SliceMetrics } from './types.js';
import { ratio, type ScoredSplit } from './scored.js';

/**
 * Metrics per group at one threshold: for non-cat groups, positiveRate is how often they are called cats;
 * for cats, recall. Groups appear in order of first occurrence.
 */
export function sliceMetrics(split: ScoredSplit, threshold: number): SliceMetrics[] {
  if (!split.groups) throw new Error('slice metrics need a group per image');
  const acc = new Map<string, { n: number; positives: number; predicted: number; tp: number; sumP: number }>();
  for (let i = 0; i < split.labels.length; i++) {
    const g = split.groups[i];
    let a = acc.get(g);
    if (!a) acc.set(g, (a = { n: 0, positives: 0, predicted: 0, tp: 0, sumP: 0 }));
    const predicted = split.probs[i] >= threshold;
    a.n++;
    a.sumP += split.probs[i];
    if (split.labels[i] === 1) a.positives++;
    if (predicted) a.predicted++;
    if (predicted && split.labels[i] === 1) a.tp++;
  }
  return [...acc].map(([group, a]) => ({
    group,
    n: a.n,
    positives: a.positives,
    predictedPositive: a.predicted,
    positiveRate: ratio(a.predicted, a.n),
    recall: ratio(a.tp, a.positives),
    precision: ratio(a.tp, a.predicted),
    meanProbability: ratio(a.sumP, a.n),
  }));
}

export type Thumbnail = (path: string) => Promise<string>;

/**
 * The most confident mistakes: non-cats with the highest p(cat) above the threshold and cats with the lowest
 * p(cat) below it. `thumbnail` (optional) turns a path into a data: URI; a failing thumbnail is left out, not fatal.
 */
export async function errorGallery(split: ScoredSplit, threshold: number, perKind = 12, thumbnail?: Thumbnail): Promise<ErrorGallery> {
  const fp: number[] = [];
  const fn: number[] = [];
  for (let i = 0; i < split.labels.length; i++) {
    const predicted = split.probs[i] >= threshold;
    if (predicted && split.labels[i] === 0) fp.push(i);
    if (!predicted && split.labels[i] === 1) fn.push(i);
  }
  fp.sort((a, b) => split.probs[b] - split.probs[a] || a - b);
  fn.sort((a, b) => split.probs[a] - split.probs[b] || a - b);
  const toExample = async (i: number): Promise<ErrorExample> => {
    const e: ErrorExample = {
      path: split.paths?.[i] ?? `#${i}`,
      group: split.groups?.[i] ?? '',
      label: split.labels[i] as 0 | 1,
      probability: split.probs[i],
    };
    if (thumbnail && split.paths) {
      try {
        e.thumbnail = await thumbnail(split.paths[i]);
      } catch {
        // A missing thumbnail must not lose the evaluation.
      }
    }
    return e;
  };
  return {
    falsePositives: await Promise.all(fp.slice(0, perKind).map(toExample)),
    falseNegatives: await Promise.all(fn.slice(0, perKind).map(toExample)),
  };
}
