import * as seedrandomModule from 'seedrandom';

type SeedRandom = (seed?: string) => () => number;
// Works whether the CommonJS package arrives as a namespace (ESM) or as the function itself (CommonJS notebooks).
const seedrandom = ((seedrandomModule as unknown as { default?: SeedRandom }).default ?? seedrandomModule) as unknown as SeedRandom;

/** A reproducible random source in [0, 1). */
export function seededRandom(seed: string | number): () => number {
  const rng = seedrandom(String(seed));
  return () => rng();
}
