/** Numbers a training loop logs per epoch (the ROC AUC comes from src/stats, as everywhere). */

const EPS = 1e-7;

/** Mean binary cross-entropy and accuracy at threshold 0.5. */
export function binaryLossAndAccuracy(labels: ArrayLike<number>, probs: ArrayLike<number>): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, probs[i]));
    loss -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
    if ((probs[i] >= 0.5 ? 1 : 0) === labels[i]) correct++;
  }
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}
