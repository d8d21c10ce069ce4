// The predict page's explanation, refined in steps: occlusion sensitivity on a coarse grid first, then finer ones.
// Each cell greyed out is one more pass of the model, so the passes go in small batches: the page can show
// progress between them and stop as soon as a newer photo makes this one moot.

import { occludedCopy } from "./preprocess.js";

/**
 * Resolve after the browser has painted a frame (or after 50 ms where frames are throttled, e.g. a hidden tab).
 * The model's passes block the main thread: without this the answer and the progress would only show once the
 * next batch is done.
 */
export function nextPaint() {
  return new Promise((resolve) => {
    let done = false;
    const go = () => { if (!done) { done = true; setTimeout(resolve, 0); } };
    requestAnimationFrame(go);
    setTimeout(go, 50);
  });
}

/** Thrown (and caught by the page) when a refinement is cancelled. */
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "Cancelled";
  }
}

/**
 * Occlusion maps for each grid in `grids` (e.g. [4, 8]), given P(cat) of the whole photo (`base`); `size` is the side
 * of a square input or {width, height} of a whole view.
 * `predict(batch: Float32Array[])` returns probabilities; `onMap({grid, drops})` gets each finished map;
 * `onProgress(done, total)` after each batch; `cancelled()` is asked between batches.
 */
export async function refineOcclusion(input, size, base, predict, { grids, fill, batch = 8, onMap, onProgress, cancelled }) {
  const total = grids.reduce((s, g) => s + g * g, 0);
  let done = 0;
  for (const grid of grids) {
    const drops = [];
    for (let start = 0; start < grid * grid; start += batch) {
      // Let the page paint (the answer first, then the progress) and take a click before each batch.
      await nextPaint();
      if (cancelled()) throw new Cancelled();
      const n = Math.min(batch, grid * grid - start);
      const probs = await predict(Array.from({ length: n }, (_, k) => occludedCopy(input, size, grid, start + k, fill)));
      drops.push(...probs.map((p) => base - p));
      done += n;
      onProgress?.(done, total);
    }
    if (cancelled()) throw new Cancelled();
    onMap?.({ grid, drops });
  }
}
