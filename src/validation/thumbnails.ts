import sharp from 'sharp';

/** A small JPEG of an image as a data URI (for the report page), fitted inside size x size. */
export async function thumbnailDataUri(buf: Buffer, size = 64, quality = 70): Promise<string> {
  const jpeg = await sharp(buf, { failOn: 'none' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'inside' })
    .jpeg({ quality })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
