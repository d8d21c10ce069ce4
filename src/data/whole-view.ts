import sharp from 'sharp';
import { RESIZE_KERNEL, type DecodedImage } from './prepare.js';

/**
 * The whole view: the photo at its own aspect for the pretrained backbone, instead of the centre square. The shorter
 * side becomes S (the model's image size); the longer side is S * aspect rounded to a multiple of 32 (the detector's
 * stride), kept between S and 2S. The resize covers that box from the centre with the training kernel, so at most a
 * few pixels are cropped for rounding and nothing is stretched; beyond 2:1 the centre 2:1 is kept. The shape never
 * reaches the classifier: the backbone's maps are pooled over height and width into the same 688 numbers.
 */
export interface ViewShape {
  width: number;
  height: number;
}

/** Pixels of one view: height x width x 3 RGB bytes, row-major. */
export interface ViewPixels extends ViewShape {
  pixels: Uint8Array;
}

/** The whole view's shape for a `width` x `height` photo at model size `size`. */
export function wholeViewShape(width: number, height: number, size: number): ViewShape {
  if (!(width > 0 && height > 0)) throw new Error(`whole view: a photo needs a positive width and height (got ${width}x${height})`);
  const longer = (aspect: number) => Math.min(2 * size, Math.max(size, Math.round((size * aspect) / 32) * 32));
  return width >= height ? { width: longer(width / height), height: size } : { width: size, height: longer(height / width) };
}

/** Whether `shape` is a whole view a photo can have at model size `size` (shorter side S, longer S..2S, stride 32). */
export function isWholeViewShape(shape: ViewShape, size: number): boolean {
  const { width, height } = shape;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  return Number.isInteger(width) && Number.isInteger(height) && short === size && long <= 2 * size && (long === size || long % 32 === 0);
}

/** The whole view of a decoded photo (EXIF-rotated RGB, as `decodeRgb` / `decodeRgbBounded` give it). */
export async function prepareWholeView(img: DecodedImage, size: number): Promise<ViewPixels> {
  const shape = wholeViewShape(img.width, img.height, size);
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(shape.width, shape.height, { fit: 'cover', position: 'centre', kernel: RESIZE_KERNEL })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== shape.width || info.height !== shape.height) {
    throw new Error(`whole view produced ${info.width}x${info.height}x${info.channels}, expected ${shape.width}x${shape.height}x3`);
  }
  return { ...shape, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
