import type * as tf from '../tfjs/index.js';
import { allLayers } from './model-layers.js';

/**
 * TensorFlow.js's Dropout layer, given a seed, draws the SAME mask on every call: `tf.dropout` builds a fresh
 * generator from that seed each time. Training with it drops the same units of every batch row at every step,
 * which is not dropout (units the fixed masks hide never learn, and the model then meets them at inference).
 *
 * `stepSeeds(model)` finds every Dropout layer (nested models included) and returns a function that, called with
 * the global step before each training step, gives each layer a seed of its own for that step: masks differ from
 * step to step and from layer to layer, and a seeded training run stays reproducible. `restore()` puts the layers'
 * own seeds back, so a saved model's configuration is the one it was built with.
 */
export interface DropoutSeeds {
  /** Seed every dropout layer for this training step. */
  forStep(step: number): void;
  /** Give the layers back the seeds they were built with. */
  restore(): void;
  /** How many dropout layers the model has. */
  readonly layers: number;
}

interface SeededLayer {
  seed?: number;
}

export function stepSeeds(model: tf.LayersModel): DropoutSeeds {
  const found = allLayers(model)
    .filter((layer) => layer.getClassName() === 'Dropout')
    .map((layer) => ({ layer: layer as unknown as SeededLayer, seed: (layer as unknown as SeededLayer).seed }));
  return {
    layers: found.length,
    forStep(step: number) {
      // Unseeded layers draw from the global generator already; only seeded ones repeat themselves.
      found.forEach(({ layer, seed }, i) => {
        if (seed !== undefined) layer.seed = mix(seed, step, i);
      });
    },
    restore() {
      for (const { layer, seed } of found) layer.seed = seed;
    },
  };
}

/** A 32-bit seed from the layer's own seed, the step and the layer's place (an integer hash, so nearby steps differ). */
function mix(seed: number, step: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35) ^ Math.imul(index + 1, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
