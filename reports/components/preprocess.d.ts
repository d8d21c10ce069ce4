// Types of preprocess.js for the tests that check it against the training pipeline.
export function resizeLikeSharp(rgb: ArrayLike<number>, width: number, height: number, hscale: number, vscale?: number): { pixels: Uint8Array; width: number; height: number };
export function prepareRgb(rgb: ArrayLike<number> & { subarray?: unknown }, width: number, height: number, size: number): {
  pixels: Uint8Array;
  crop: { x: number; y: number; side: number; width: number; height: number };
};
export function wholeViewShape(width: number, height: number, size: number): { width: number; height: number };
export function prepareWholeView(rgb: ArrayLike<number>, width: number, height: number, size: number): {
  pixels: Uint8Array;
  width: number;
  height: number;
  crop: { x: number; y: number; width: number; height: number };
};
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): Uint8Array;
export function scaleToUnit(bytes: ArrayLike<number>): Float32Array;
export function modelRescalesItself(modelTopology: unknown): boolean;
export function modelImageSize(modelTopology: unknown): number | null;
export function occlusionMap(
  input: Float32Array,
  size: number | { width: number; height: number },
  predict: (batch: Float32Array[]) => Promise<number[]>,
  options?: { grid?: number; fill?: number },
): Promise<{ base: number; grid: number; drops: number[] }>;
