// The browser twin of src/data/prepare.ts and src/data/whole-view.ts: the same rule the model was trained with.
//   1. the photo as 8-bit RGB, EXIF orientation applied, transparency flattened on white;
//   2. scale so the shorter side equals the model's size, then cut the centred square (sharp's fit "cover",
//      position "centre") -- or, for a pretrained-backbone model, the centred whole view at the photo's aspect
//      (wholeViewShape);
//   3. the model input is those RGB bytes scaled to [0, 1] (done by scaleToUnit, or by the model itself when it
//      starts with a Rescaling layer).
// Step 2 reproduces what sharp's resize(..., { fit: "cover", kernel: "lanczos3" }) does in libvips (vips_resize),
// including its integer arithmetic, so the browser sees the same bytes as training: measured against sharp 0.35
// (libvips 8.18) on noise images and cats-v1 photos, the bytes are equal but for rare off-by-one values (see
// test/site/resize-like-sharp.test.ts).
//   - sharp takes one scale for both axes, the larger of outW / width and outH / height, resizes the whole photo
//     and crops the centre box at ((w - outW + 1) / 2, (h - outH + 1) / 2), integer division.
//   - shrinking (vips_reducev, then vips_reduceh, each with resize's default gap of 2): an axis whose shrink is
//     at least twice 2 is first box-averaged by k = floor(shrink / 2) pixels (vips_shrinkv/h, the last block
//     padded by repeating the edge, mean as ((sum + k/2) * floor(65536 / k)) >> 16), then reduced by the rest
//     with a Lanczos-3 mask of 2 * rint(3 * shrink) + 1 taps. Output size rint(n / shrink); sample centres at
//     (i + 0.5) * shrink - 0.5 - offset (offset spreads the rounding of the size over both ends); the mask is
//     tabulated at 1/64 pixel positions (VIPS_TRANSFORM_SCALE), each weight truncated to 12-bit fixed point, the
//     sum rounded, shifted and clamped to a byte; the vertical pass is rounded to bytes before the horizontal one.
//   - enlarging (vips_affine with the bicubic interpolator): Catmull-Rom weights tabulated at 1/64 pixel and
//     truncated to 12 bits, sampling input position o / scale - 0.5, edges repeated; each of the 4 rows is rounded
//     to an integer before the vertical pass.

const TRANSFORM_SCALE = 64; // libvips VIPS_TRANSFORM_SCALE: masks are tabulated at 1/64 pixel
const SHIFT = 12; // libvips VIPS_INTERPOLATE_SHIFT: 12-bit fixed-point weights
const ONE = 1 << SHIFT;

/** Index of the tabulated mask for position `pos` (libvips rounds to the nearest 1/64 this way). */
function maskIndex(pos) {
  const s = Math.trunc(pos * TRANSFORM_SCALE * 2);
  return ((s & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
}

/** Lanczos-3 masks of n taps for a `shrink` reduce, one per 1/64 position, weights truncated to 12 bits. */
function lanczosMasks(shrink, n) {
  const half = (n - 1) >> 1;
  const masks = [];
  for (let t = 0; t <= TRANSFORM_SCALE; t++) {
    const x = Math.fround(t / TRANSFORM_SCALE) - 0.5;
    const w = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const xp = (i - half - x) / shrink;
      const l = xp === 0 ? 1 : xp < -3 || xp > 3 ? 0 : (3 * Math.sin(Math.PI * xp) * Math.sin((Math.PI * xp) / 3)) / (Math.PI * Math.PI * xp * xp);
      w[i] = l;
      sum += l;
    }
    masks.push(Int32Array.from(w, (v) => Math.trunc((v / sum) * ONE)));
  }
  return masks;
}

/**
 * One axis of an RGB image (vertical: rows; else columns) as `lines` lines of `len` samples: the offset of sample
 * `i` of line `l` is base(l) + i * step.
 */
function axis(width, height, vertical) {
  return vertical
    ? { len: height, lines: width, step: width * 3, base: (l) => l * 3 }
    : { len: width, lines: height, step: 3, base: (l) => l * width * 3 };
}

/** libvips' vips_shrinkv / vips_shrinkh with ceil: box mean of k samples, the last block padded with the edge. */
function boxShrink(rgb, width, height, k, vertical) {
  const { len, lines, step, base } = axis(width, height, vertical);
  const outLen = Math.ceil(len / k);
  const ow = vertical ? width : outLen, oh = vertical ? outLen : height;
  const out = new Uint8Array(ow * oh * 3);
  const o = axis(ow, oh, vertical);
  const recip = Math.floor(65536 / k);
  for (let l = 0; l < lines; l++) {
    const b0 = base(l), ob = o.base(l);
    for (let j = 0; j < outLen; j++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += rgb[b0 + Math.min(len - 1, j * k + i) * step + c];
        out[ob + j * o.step + c] = ((sum + (k >> 1)) * recip) >>> 16;
      }
    }
  }
  return { rgb: out, width: ow, height: oh };
}

/** libvips' vips_reducev / vips_reduceh (with gap 2) of 8-bit RGB by `shrink` >= 1 along one axis. */
function reduceAxis(rgb, width, height, shrink, vertical) {
  const len0 = vertical ? height : width;
  const outLen = Math.floor(len0 / shrink + 0.5);
  let extra = outLen * shrink - len0;
  const k = Math.max(1, Math.floor(len0 / outLen / 2));
  if (k > 1) {
    ({ rgb, width, height } = boxShrink(rgb, width, height, k, vertical));
    shrink /= k;
    extra /= k;
  }
  if (shrink === 1) return { rgb, width, height };
  const n = 2 * Math.round(3 * shrink) + 1;
  const half = (n - 1) >> 1;
  const masks = lanczosMasks(shrink, n);
  const offset = (1 + extra) / 2 - 1;
  const { len, lines, step, base } = axis(width, height, vertical);
  const ow = vertical ? width : outLen, oh = vertical ? outLen : height;
  const out = new Uint8Array(ow * oh * 3);
  const o = axis(ow, oh, vertical);
  const taps = new Int32Array(n);
  // libvips steps the position by adding `shrink`, so do the same (the sum differs from a product in the last bits).
  let pos = 0.5 * shrink - 0.5 - offset;
  for (let j = 0; j < outLen; j++, pos += shrink) {
    const first = Math.trunc(pos) - half;
    const mask = masks[maskIndex(pos)];
    for (let i = 0; i < n; i++) taps[i] = Math.min(len - 1, Math.max(0, first + i)) * step;
    for (let l = 0; l < lines; l++) {
      const b0 = base(l), q = o.base(l) + j * o.step;
      for (let c = 0; c < 3; c++) {
        let sum = ONE >> 1;
        for (let i = 0; i < n; i++) sum += rgb[b0 + taps[i] + c] * mask[i];
        sum >>= SHIFT;
        out[q + c] = sum < 0 ? 0 : sum > 255 ? 255 : sum;
      }
    }
  }
  return { rgb: out, width: ow, height: oh };
}

/** Catmull-Rom weights at x in [0, 1] as libvips computes them (calculate_coefficients_catmull). */
function catmullRom(x) {
  const cr1 = 1 - x, cr2 = -0.5 * x, cr3 = cr1 * cr2, c0 = cr1 * cr3, c3 = x * cr3, cr4 = c3 - c0;
  return [c0, cr1 - c0 + cr4, x - c3 - cr4, c3];
}

const BICUBIC = Array.from({ length: TRANSFORM_SCALE + 1 }, (_, t) => Int32Array.from(catmullRom(Math.fround(t / TRANSFORM_SCALE)), (v) => Math.trunc(v * ONE)));

/** libvips' vips_affine with the bicubic interpolator, as vips_resize enlarges: scale hs x vs (both >= 1). */
function enlargeBicubic(rgb, width, height, hs, vs) {
  const ow = Math.round(width * hs), oh = Math.round(height * vs);
  const out = new Uint8Array(ow * oh * 3);
  const place = (o, s, n) => {
    const p = o / s - 0.5 + 1; // + 1: the interpolator's window offset, positions stay positive
    const f = Math.trunc(p);
    return { idx: [f - 2, f - 1, f, f + 1].map((v) => Math.min(n - 1, Math.max(0, v))), w: BICUBIC[maskIndex(p)] };
  };
  const cols = Array.from({ length: ow }, (_, x) => place(x, hs, width));
  const rows = new Int32Array(4);
  for (let y = 0; y < oh; y++) {
    const { idx: ry, w: wy } = place(y, vs, height);
    for (let x = 0; x < ow; x++) {
      const { idx: rx, w: wx } = cols[x];
      for (let c = 0; c < 3; c++) {
        for (let j = 0; j < 4; j++) {
          const r = ry[j] * width;
          const s = wx[0] * rgb[(r + rx[0]) * 3 + c] + wx[1] * rgb[(r + rx[1]) * 3 + c] + wx[2] * rgb[(r + rx[2]) * 3 + c] + wx[3] * rgb[(r + rx[3]) * 3 + c];
          rows[j] = (s + (ONE >> 1)) >> SHIFT;
        }
        const v = (wy[0] * rows[0] + wy[1] * rows[1] + wy[2] * rows[2] + wy[3] * rows[3] + (ONE >> 1)) >> SHIFT;
        out[(y * ow + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { rgb: out, width: ow, height: oh };
}

/**
 * Resize 8-bit RGB (width x height x 3) by `hscale` x `vscale` (output pixels per input pixel) as libvips'
 * vips_resize does with the lanczos3 kernel: reduce each shrinking axis, vertical first, then enlarge.
 */
export function resizeLikeSharp(rgb, width, height, hscale, vscale = hscale) {
  let img = { rgb, width, height };
  if (vscale < 1) img = reduceAxis(img.rgb, img.width, img.height, 1 / vscale, true);
  if (hscale < 1) img = reduceAxis(img.rgb, img.width, img.height, 1 / hscale, false);
  if (hscale > 1 || vscale > 1) img = enlargeBicubic(img.rgb, img.width, img.height, Math.max(1, hscale), Math.max(1, vscale));
  return { pixels: img.rgb === rgb ? Uint8Array.from(rgb) : img.rgb, width: img.width, height: img.height };
}

/**
 * Scale so that the photo covers outW x outH (sharp's fit "cover"), then cut the centred outW x outH box: its RGB
 * bytes, and the box's position in the original image (for drawing the explanation over the photo).
 */
export function prepareCover(rgb, width, height, outW, outH) {
  if (!(width > 0 && height > 0)) throw new Error(`image has no pixels (${width}x${height})`);
  const shrink = Math.min(width / outW, height / outH);
  const scale = 1 / shrink;
  const resized = resizeLikeSharp(rgb, width, height, scale, scale);
  const w = resized.width, hgt = resized.height;
  if (w < outW || hgt < outH) throw new Error(`resize gave ${w}x${hgt}, smaller than ${outW}x${outH}`);
  const left = Math.trunc((w - outW + 1) / 2);
  const top = Math.trunc((hgt - outH + 1) / 2);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const s = ((y + top) * w + left) * 3;
    out.set(resized.pixels.subarray(s, s + outW * 3), y * outW * 3);
  }
  const kx = width / w, ky = height / hgt;
  return { pixels: out, width: outW, height: outH, crop: { x: left * kx, y: top * ky, width: outW * kx, height: outH * ky } };
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
