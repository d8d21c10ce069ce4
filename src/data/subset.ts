import type { PreparedSplit } from './types.js';

/** The images of `splits` (in order) for which `keep(split, i)` holds, as one split; pixels are copied. */
export function selectImages(splits: readonly PreparedSplit[], keep: (split: PreparedSplit, index: number) => boolean): PreparedSplit {
  if (splits.length === 0) throw new Error('selectImages needs at least one split');
  const size = splits[0].size;
  if (splits.some((s) => s.size !== size)) throw new Error('selectImages: the splits hold images of different sizes');
  const stride = size * size * 3;
  const picked: Array<[PreparedSplit, number]> = [];
  for (const s of splits) for (let i = 0; i < s.n; i++) if (keep(s, i)) picked.push([s, i]);
  const pixels = new Uint8Array(picked.length * stride);
  picked.forEach(([s, i], k) => pixels.set(s.pixels.subarray(i * stride, (i + 1) * stride), k * stride));
  return {
    size,
    n: picked.length,
    pixels,
    labels: Uint8Array.from(picked.map(([s, i]) => s.labels[i])),
    groups: picked.map(([s, i]) => s.groups[i]),
    paths: picked.map(([s, i]) => s.paths[i]),
  };
}
