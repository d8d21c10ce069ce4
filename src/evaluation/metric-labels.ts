/**
 * Metric keys in words, for pages people read: `rocAuc` is "ROC AUC", `positiveRate.selfie` is "selfies called a
 * cat". The keys stay as they are in the files (model cards, runs); only what is shown changes.
 */
const WORDS: Record<string, string> = {
  precision: 'precision',
  recall: 'recall',
  f1: 'F1',
  accuracy: 'accuracy',
  rocAuc: 'ROC AUC',
  prAuc: 'PR AUC (average precision)',
  ece: 'calibration error (ECE)',
  threshold: 'decision threshold',
  positiveRate: 'share called a cat',
  brier: 'Brier score',
  logLoss: 'log loss',
  loss: 'loss',
  n: 'photos',
};

const GROUP_PLURAL: Record<string, string> = { cat: 'cats', dog: 'dogs', selfie: 'selfies', misc: 'other photos' };

/** One metric key in words (an unknown key is returned as it is). */
export function metricLabel(key: string): string {
  const dot = key.indexOf('.');
  if (dot > 0) {
    const [base, group] = [key.slice(0, dot), key.slice(dot + 1)];
    const who = GROUP_PLURAL[group] ?? `group ${group}`;
    if (base === 'positiveRate') return `${who} called a cat`;
    return `${metricLabel(base)}, ${who}`;
  }
  const split = /^(test|val|train)_(.+)$/.exec(key);
  if (split) return `${metricLabel(split[2])} (${split[1] === 'val' ? 'validation' : split[1]})`;
  return WORDS[key] ?? key;
}

/** The words for every key of `metrics`, for a page's lookup. */
export function metricLabels(...metrics: Array<Record<string, unknown> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of metrics) for (const key of Object.keys(m ?? {})) out[key] = metricLabel(key);
  return out;
}
