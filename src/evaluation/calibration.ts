import type { Calibration, CalibrationBin } from './types.js';

/** Reliability diagram bins of equal width over [0, 1] and the expected calibration error. */
export function calibration(labels: ArrayLike<number>, probs: ArrayLike<number>, binCount = 10): Calibration {
  if (!Number.isInteger(binCount) || binCount < 1) throw new Error(`calibration: binCount must be a positive integer, got ${binCount}`);
  const count = new Array<number>(binCount).fill(0);
  const sumP = new Array<number>(binCount).fill(0);
  const sumY = new Array<number>(binCount).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const b = Math.min(binCount - 1, Math.floor(probs[i] * binCount));
    count[b]++;
    sumP[b] += probs[i];
    sumY[b] += labels[i];
  }
  const n = labels.length;
  let ece = 0;
  const bins: CalibrationBin[] = count.map((c, b) => {
    const meanPredicted = c ? sumP[b] / c : null;
    const fractionPositive = c ? sumY[b] / c : null;
    if (c) ece += (c / n) * Math.abs(fractionPositive! - meanPredicted!);
    return { lo: b / binCount, hi: (b + 1) / binCount, count: c, meanPredicted, fractionPositive };
  });
  return { bins, ece: n ? ece : null };
}
