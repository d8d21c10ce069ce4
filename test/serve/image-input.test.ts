import { describe, expect, it } from 'vitest';
import { sniffImageFormat, checkImageContentType } from '../../src/serve/image-input.js';
import type { HttpError } from '../../src/serve/http-errors.js';

describe('image input checks', () => {
  it('recognises formats by their first bytes only', () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffImageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toBeNull();
    expect(sniffImageFormat(Buffer.from('GIF89a......'))).toBe('gif');
  });

  it('accepts image content types and refuses others with 415', () => {
    expect(() => checkImageContentType('image/jpeg')).not.toThrow();
    expect(() => checkImageContentType('image/png; charset=binary')).not.toThrow();
    for (const t of ['text/plain', undefined, 'image/svg+xml', 'application/octet-stream']) {
      try {
        checkImageContentType(t);
        expect.fail(`accepted ${t}`);
      } catch (err) {
        expect((err as HttpError).status).toBe(415);
      }
    }
  });
});
