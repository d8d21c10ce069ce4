import { S3UnavailableError } from '../storage/s3-client.js';
import type { ModelLoadError } from './model-holder.js';

/**
 * What `/api/health` and the 503s of `/api/predict` (both unauthenticated) say about a failure: what is wrong, in
 * words, without internals such as file paths, S3 endpoints, bucket names or object keys. The full messages go to
 * the server log when the failure happens.
 */
const SEE_LOG = 'the server log has the details';

/** A model load failure in words: which version, and the kind of failure. */
export function modelLoadErrorInWords(e: ModelLoadError): ModelLoadError {
  return { ...e, message: modelLoadMessage(e) };
}

function modelLoadMessage(e: ModelLoadError): string {
  if (e.version === null) return `the promoted model pointer cannot be read (${SEE_LOG}; read again when it changes)`;
  const m = e.message;
  const kind = /ENOENT|no such file|not found/i.test(m)
    ? 'its files are missing'
    : /JSON|Unexpected|Unterminated|parse/i.test(m)
      ? 'its files are damaged'
      : /sha-?256|checksum|hash/i.test(m)
        ? 'its files do not match their checksum'
        : /train it again|refused|not supported|unsupported/i.test(m)
          ? 'this server cannot serve it'
          : 'loading it failed';
  return `the promoted model v${e.version} failed to load: ${kind} (${SEE_LOG}; retried automatically)`;
}

/** An S3 failure (feedback uploads, a replica's model source) in words: reachability, bucket, keys, or the answer. */
export function s3ErrorInWords(err: Error | null, what: string): string | null {
  if (err === null) return null;
  const m = err.message;
  if (err instanceof S3UnavailableError) return err.timedOut ? `S3 did not answer in time (${what}); ${SEE_LOG}` : `S3 is unreachable (${what}); ${SEE_LOG}`;
  if (/unreachable/i.test(m)) return `S3 is unreachable (${what}); ${SEE_LOG}`;
  if (/has not answered/i.test(m)) return `S3 has not answered (${what}); ${SEE_LOG}`;
  if (/bucket does not exist|NoSuchBucket/i.test(m)) return `the configured S3 bucket does not exist (${what}); ${SEE_LOG}`;
  if (/access denied|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/i.test(m)) return `S3 refused the configured keys (${what}); ${SEE_LOG}`;
  return `S3 refused the request (${what}); ${SEE_LOG}`;
}
