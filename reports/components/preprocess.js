// The browser twin of src/data/prepare.ts and src/data/whole-view.ts: the same rule the model was trained with.
//   1. the photo as 8-bit RGB, EXIF orientation applied, transparency flattened on white;
//   2. scale so the shorter side equals the model's size, with a Lanczos-3 kernel (as sharp's lanczos3), then
//      cut the centred square (sharp's fit "cover", position "centre") -- or, for a pretrained-backbone model,
//      the centred whole view at the photo's aspect (wholeViewShape);
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

/**
 * Per output index: first input index and normalized weights, for resampling n -> m samples; `scale` input
 * samples per output sample (default n / m; libvips keeps one scale for both axes of a resize).
 */
function weightsFor(n, m, scale = n / m) {
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

/**
 * Resample RGB bytes (width x height x 3) to outW x outH with a separable Lanczos-3 filter; `scale`: input pixels
 * per output pixel on both axes (default: each axis its own, width / outW and height / outH).
 */
export function resizeLanczos3(rgb, width, height, outW, outH, scale = undefined) {
  const cols = weightsFor(width, outW, scale);
  const rows = weightsFor(height, outH, scale);
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
 * Scale so that the photo covers outW x outH (sharp's fit "cover"), then cut the centred outW x outH box: its RGB
 * bytes, and the box's position in the original image (for drawing the explanation over the photo).
 */
export function prepareCover(rgb, width, height, outW, outH) {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  const scale = Math.max(outW / width, outH / height);
  const w = Math.max(outW, Math.round(width * scale));
  const hgt = Math.max(outH, Math.round(height * scale));
  const resized = resizeLanczos3(rgb, width, height, w, hgt, undefined);
  const left = Math.round((w - outW) / 2);
  const top = Math.round((hgt - outH) / 2);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const s = ((y + top) * w + left) * 3;
    out.set(resized.subarray(s, s + outW * 3), y * outW * 3);
  }
  return { pixels: out, width: outW, height: outH, crop: { x: left / scale, y: top / scale, width: outW / scale, height: outH / scale } };
}

/**
 * Scale so the shorter side is `size`, then cut the centred size x size square: size*size*3 RGB bytes.
 * Also returns the square's position in the original image (for drawing the explanation over the photo).
 */
export function prepareRgb(rgb, width, height, size) {
  const { pixels, crop } = prepareCover(rgb, width, height, size, size);
  return { pixels, crop: { x: crop.x, y: crop.y, side: crop.width, width: crop.width, height: crop.height } };
}

/**
 * The browser twin of src/data/whole-view.ts, what a pretrained-backbone model sees: the shorter side becomes
 * `size`, the longer side size * aspect rounded to a multiple of 32 and kept between size and 2 * size.
 */
export function wholeViewShape(width, height, size) {
  if (!(width > 0 && height > 0)) throw new Error(`whole view: a photo needs a positive width and height (got ${width}x${height})`);
  const longer = (aspect) => Math.min(2 * size, Math.max(size, Math.round((size * aspect) / 32) * 32));
  return width >= height ? { width: longer(width / height), height: size } : { width: size, height: longer(height / width) };
}

/** The whole view of a photo: its RGB bytes, shape and position in the original image. */
export function prepareWholeView(rgb, width, height, size) {
  const shape = wholeViewShape(width, height, size);
  return prepareCover(rgb, width, height, shape.width, shape.height);
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

/**
 * The input with one cell of a grid x grid grid filled with `fill`. `size` is the side of a square input, or
 * {width, height} of a whole view (its cells are width/grid x height/grid).
 */
export function occludedCopy(input, size, grid, index, fill) {
  const { width, height } = typeof size === "number" ? { width: size, height: size } : size;
  const cw = width / grid, ch = height / grid;
  const gx = index % grid, gy = Math.floor(index / grid);
  const v = Float32Array.from(input);
  const y0 = Math.round(gy * ch), y1 = Math.round((gy + 1) * ch);
  const x0 = Math.round(gx * cw), x1 = Math.round((gx + 1) * cw);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const i = (y * width + x) * 3;
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
