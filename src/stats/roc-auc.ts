/**
 * ROC AUC: the probability that a random positive (label 1) scores above a random negative, ties counting one
 * half (Mann-Whitney U with mid-ranks). Arguments in the order (labels, scores), as everywhere in this project.
 *
 * Null when either class is missing (including no items at all): the area is undefined then, and a number such
 * as 0.5 would read as a measurement ("no better than chance"). Callers that need a number decide at the call
 * site what an undefined area means for them.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[idx[end + 1]] === scores[idx[start]]) end++;
    const midRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let k = start; k <= end; k++) {
      if (labels[idx[k]] === 1) {
        rankSumPos += midRank;
        pos++;
      }
    }
    start = end + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
