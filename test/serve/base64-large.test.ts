/**
 * Issue 26, defect 1: the strict base64 check of /v2 image tensors must hold at every size up to the upload limit
 * (a single regular expression over the whole string overflowed the stack near 4.5 million characters).
 */
import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../src/serve/open-inference-tensors.js';
import { HttpError } from '../../src/serve/http-errors.js';

const LIMIT = 10 * 1024 * 1024;

function bytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  let s = 12345;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

function status(f: () => unknown): number {
  try {
    f();
    return 200;
  } catch (err) {
    return err instanceof HttpError ? err.status : 500;
  }
}

describe('decodeBase64 at every size up to the limit', () => {
  for (const n of [1, 2, 3, 1000, 3_400_000, 5_800_000, LIMIT - 2, LIMIT]) {
    it(`${n} bytes: valid decodes, invalid is a 400`, () => {
      const raw = bytes(n);
      const s = raw.toString('base64');
      expect(decodeBase64(s, 'x', LIMIT).equals(raw)).toBe(true);
      expect(status(() => decodeBase64(`${s.slice(0, -4)}*${s.slice(-3)}`, 'x', LIMIT))).toBe(400);
      expect(status(() => decodeBase64(s.slice(0, -1), 'x', LIMIT))).toBe(400);
      expect(status(() => decodeBase64(`=${s.slice(1)}`, 'x', LIMIT))).toBe(400);
      expect(status(() => decodeBase64(`${s}\n`, 'x', LIMIT))).toBe(400);
    });
  }

  it('padding only at the end, and only where it belongs', () => {
    expect(status(() => decodeBase64('QQ==', 'x', LIMIT))).toBe(200);
    expect(status(() => decodeBase64('QUE=', 'x', LIMIT))).toBe(200);
    expect(status(() => decodeBase64('Q===', 'x', LIMIT))).toBe(400);
    expect(status(() => decodeBase64('QQ==QUFB', 'x', LIMIT))).toBe(400);
    expect(status(() => decodeBase64('QQ=A', 'x', LIMIT))).toBe(400);
    expect(status(() => decodeBase64('QUFB-_FB', 'x', LIMIT))).toBe(400);
  });

  it('over the limit is a 400 naming it', () => {
    const s = bytes(LIMIT + 3000).toString('base64');
    expect(() => decodeBase64(s, 'x', LIMIT)).toThrow(/limit of 10485760 bytes/);
  });
});
