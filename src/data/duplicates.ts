import { hashWords, popcount32 } from './phash.js';

/** Union-find over 0..n-1 with path halving and union by size. */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.size = new Int32Array(n).fill(1);
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.size[ra] < this.size[rb]) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] += this.size[rb];
    return true;
  }
}

export interface DuplicateClusters {
  /** Clusters as lists of item indices (singletons included), each sorted ascending; ordered by first index. */
  clusters: number[][];
  exactPairs: number;
  nearPairs: number;
}

/**
 * Group items that are the same photo: equal sha256 (exact copies) or difference hashes within `maxDistance`
 * bits (re-encoded, resized, slightly edited copies). Clusters are the connected components, so a chain of
 * near-copies stays together. All pairs are compared (n^2/2 XOR+popcount on two 32-bit words: ~18M for 6,000
 * images, well under a second).
 */
export function duplicateClusters(items: ReadonlyArray<{ sha256: string; phash: string }>, maxDistance: number): DuplicateClusters {
  const n = items.length;
  const uf = new UnionFind(n);
  let exactPairs = 0;
  let nearPairs = 0;
  const firstBySha = new Map<string, number>();
  items.forEach((it, i) => {
    const first = firstBySha.get(it.sha256);
    if (first === undefined) firstBySha.set(it.sha256, i);
    else if (uf.union(first, i)) exactPairs++;
  });
  if (maxDistance >= 0) {
    const { hi, lo } = hashWords(items.map((it) => it.phash));
    for (let i = 0; i < n; i++) {
      const hi_i = hi[i];
      const lo_i = lo[i];
      for (let j = i + 1; j < n; j++) {
        const d = popcount32(hi_i ^ hi[j]) + popcount32(lo_i ^ lo[j]);
        if (d <= maxDistance && items[i].sha256 !== items[j].sha256) {
          nearPairs++;
          uf.union(i, j);
        }
      }
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    const list = byRoot.get(r);
    if (list) list.push(i);
    else byRoot.set(r, [i]);
  }
  return { clusters: [...byRoot.values()], exactPairs, nearPairs };
}
