/** Counts of a binary decision against the truth ("positive" is a cat in this project). */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** a / b, or null when b is 0 (a rate over nothing is undefined, not 0). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

/** Confusion matrix of paired truths and decisions (the i-th of each belong together). */
export function confusionOf(actual: ArrayLike<boolean>, predicted: ArrayLike<boolean>): Confusion {
  if (actual.length !== predicted.length) throw new Error(`confusion: ${actual.length} truths but ${predicted.length} decisions`);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < actual.length; i++) {
    if (actual[i]) predicted[i] ? c.tp++ : c.fn++;
    else predicted[i] ? c.fp++ : c.tn++;
  }
  return c;
}

/** Confusion matrix when items with score >= threshold are called positive (label 1 is positive). */
export function confusionAt(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i] >= threshold;
    if (labels[i] === 1) predicted ? c.tp++ : c.fn++;
    else predicted ? c.fp++ : c.tn++;
  }
  return c;
}
