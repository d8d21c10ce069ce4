/** Area under the ROC curve (Mann-Whitney U with tied scores counted half); NaN when one class is absent. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

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
