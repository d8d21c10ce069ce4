import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from './http-errors.js';
import { declaredLengthWithin, tooLarge, truncated } from './request-body.js';

export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  data: Buffer;
}

export interface MultipartForm {
  fields: Record<string, string>;
  files: UploadedFile[];
}

export interface MultipartLimits {
  /** Largest file in bytes. */
  fileBytes: number;
  maxFiles?: number;
  maxFields?: number;
  fieldBytes?: number;
}

/** Room for the form's fields and part headers on top of the file size limit. */
const FORM_OVERHEAD = 64 * 1024;

/**
 * Parse a multipart/form-data body with busboy, holding the file(s) in memory. Over-size files, too many parts,
 * malformed bodies and bodies that end early are refused with a 4xx HttpError.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    try {
      declaredLengthWithin(req, limits.fileBytes + FORM_OVERHEAD, limits.fileBytes);
    } catch (err) {
      reject(err);
      return;
    }
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          fileSize: limits.fileBytes,
          files: limits.maxFiles ?? 1,
          fields: limits.maxFields ?? 16,
          fieldSize: limits.fieldBytes ?? 4096,
          parts: (limits.maxFiles ?? 1) + (limits.maxFields ?? 16),
        },
      });
    } catch (err) {
      reject(new HttpError(400, 'bad_multipart', `not a valid multipart request: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    let settled = false;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      reject(err);
    };
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        chunks.push(c);
      });
      stream.on('limit', () => fail(tooLarge(limits.fileBytes)));
      stream.on('error', (err: Error) => fail(/unexpected end/i.test(err.message) ? truncated() : new HttpError(400, 'bad_multipart', err.message)));
      stream.on('end', () => {
        if (settled) return;
        files.push({ field, filename: info.filename ?? '', mimeType: info.mimeType, data: Buffer.concat(chunks, size) });
      });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(400, 'field_too_large', `form field "${name}" is too long`));
      // A field sent twice (consent=false, then consent=true) is ambiguous: refused, never "the last one wins".
      else if (Object.hasOwn(fields, name)) fail(new HttpError(400, 'repeated_field', `form field "${JSON.stringify(name).slice(1, -1)}" is sent more than once; send each field once`));
      else fields[name] = value;
    });
    bb.on('filesLimit', () => fail(new HttpError(400, 'too_many_files', 'the form holds more files than allowed')));
    bb.on('fieldsLimit', () => fail(new HttpError(400, 'too_many_fields', 'the form holds more fields than allowed')));
    bb.on('partsLimit', () => fail(new HttpError(400, 'too_many_parts', 'the form holds more parts than allowed')));
    bb.on('error', (err: Error) => {
      const ended = /unexpected end/i.test(err.message);
      fail(ended ? truncated() : new HttpError(400, 'bad_multipart', `malformed multipart body: ${err.message}`));
    });
    bb.on('close', () => {
      if (settled) return;
      if (!req.complete) {
        fail(truncated());
        return;
      }
      settled = true;
      resolve({ fields, files });
    });
    req.on('aborted', () => fail(truncated()));
    req.on('close', () => {
      if (!req.complete) fail(truncated());
    });
    req.pipe(bb);
  });
}
