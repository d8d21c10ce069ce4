// The browser twin of src/data/prepare.ts: the same rule the model was trained with.
//   1. the photo as 8-bit RGB, EXIF orientation applied, transparency flattened on white;
//   2. scale so the shorter side equals the model's size, with a Lanczos-3 kernel (as sharp's lanczos3), then
//      cut the centred square (sharp's fit "cover", position "centre");
//      (Shrinking matches sharp to under one grey level on average; enlarging a photo smaller than the input
//      is close but not identical, as libvips enlarges with a different interpolator.)
//   3. the model input is those RGB bytes scaled to [0, 1] (done by scaleToUnit, or by the model itself when it
//      starts with a Rescaling layer).

function sinc(x) {
  if (x === 0) return 1;
  const p = Math.PI * x;
  return Math.sin(p) / p;
}

function lanczos3(x) {
  return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

/** Per output index: first input index and normalized weights, for resampling n -> m samples. */
function weightsFor(n, m) {
  const scale = n / m;
  const support = 3 * Math.max(1, scale);
  const filterScale = Math.max(1, scale);
  const out = [];
  for (let i = 0; i < m; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(n - 1, Math.ceil(center + support));
    const w = [];
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const v = lanczos3((j + 0.5 - center) / filterScale);
      w.push(v);
      sum += v;
    }
    out.push({ lo, w: Float32Array.from(w, (v) => v / sum) });
  }
  return out;
}

/** Resample RGB bytes (width x height x 3) to outW x outH with a separable Lanczos-3 filter. */
export function resizeLanczos3(rgb, width, height, outW, outH) {
  const cols = weightsFor(width, outW);
  const rows = weightsFor(height, outH);
  const tmp = new Float32Array(outW * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      const { lo, w } = cols[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const s = (y * width + lo + k) * 3;
        r += rgb[s] * w[k]; g += rgb[s + 1] * w[k]; b += rgb[s + 2] * w[k];
      }
      const d = (y * outW + x) * 3;
      tmp[d] = r; tmp[d + 1] = g; tmp[d + 2] = b;
    }
  }
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const { lo, w } = rows[y];
    for (let x = 0; x < outW; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const s = ((lo + k) * outW + x) * 3;
        r += tmp[s] * w[k]; g += tmp[s + 1] * w[k]; b += tmp[s + 2] * w[k];
      }
      const d = (y * outW + x) * 3;
      out[d] = clampByte(r); out[d + 1] = clampByte(g); out[d + 2] = clampByte(b);
    }
  }
  return out;
}

function clampByte(v) {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Scale so the shorter side is `size`, then cut the centred size x size square: size*size*3 RGB bytes.
 * Also returns the square's position in the original image (for drawing the explanation over the photo).
 */
export function prepareRgb(rgb, width, height, size) {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  const scale = size / Math.min(width, height);
  const w = Math.max(size, Math.round(width * scale));
  const hgt = Math.max(size, Math.round(height * scale));
  const resized = resizeLanczos3(rgb, width, height, w, hgt);
  const left = Math.round((w - size) / 2);
  const top = Math.round((hgt - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const s = ((y + top) * w + left) * 3;
    out.set(resized.subarray(s, s + size * 3), y * size * 3);
  }
  return { pixels: out, crop: { x: left / scale, y: top / scale, side: size / scale } };
}

/** RGBA (canvas ImageData) to RGB, flattening transparency on white like the training decoder. */
export function rgbaToRgb(rgba, width, height) {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    const a = rgba[i + 3] / 255;
    out[j] = Math.round(rgba[i] * a + 255 * (1 - a));
    out[j + 1] = Math.round(rgba[i + 1] * a + 255 * (1 - a));
    out[j + 2] = Math.round(rgba[i + 2] * a + 255 * (1 - a));
  }
  return out;
}

/** Bytes to floats in [0, 1]. */
export function scaleToUnit(bytes) {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/** Does the model take raw bytes (it starts with a Rescaling layer) rather than [0, 1] floats? */
export function modelRescalesItself(modelTopology) {
  const layers = modelTopology?.model_config?.config?.layers ?? modelTopology?.config?.layers ?? [];
  return layers.some((l) => l.class_name === "Rescaling");
}

/** The square input size of a saved layers model (batch_input_shape [null, S, S, 3]). */
export function modelImageSize(modelTopology) {
  const layers = modelTopology?.model_config?.config?.layers ?? modelTopology?.config?.layers ?? [];
  for (const l of layers) {
    const shape = l.config?.batch_input_shape ?? l.config?.batchInputShape;
    if (Array.isArray(shape) && shape.length === 4) return shape[1];
  }
  return null;
}

/** The input with one grid cell filled with `fill` (size x size x 3 floats). */
export function occludedCopy(input, size, grid, index, fill) {
  const cell = size / grid;
  const gx = index % grid, gy = Math.floor(index / grid);
  const v = Float32Array.from(input);
  const y0 = Math.round(gy * cell), y1 = Math.round((gy + 1) * cell);
  const x0 = Math.round(gx * cell), x1 = Math.round((gx + 1) * cell);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * size + x) * 3;
    v[i] = fill; v[i + 1] = fill; v[i + 2] = fill;
  }
  return v;
}

/**
 * Occlusion sensitivity: grey out one cell of a grid at a time and see how much P(cat) drops.
 * `predict(batch: Float32Array[])` returns probabilities. Returns grid x grid drops (positive = the cell
 * supports "cat").
 */
export async function occlusionMap(input, size, predict, { grid = 8, fill = 0.5 } = {}) {
  const variants = Array.from({ length: grid * grid }, (_, index) => occludedCopy(input, size, grid, index, fill));
  const [base] = await predict([input]);
  const probs = await predict(variants);
  return { base, grid, drops: probs.map((p) => base - p) };
}
