/** Where an S3-compatible store lives and how to sign requests to it. */
export interface S3Config {
  /** e.g. `http://127.0.0.1:7480`; undefined means AWS itself (the SDK picks the regional endpoint). */
  endpoint?: string;
  /** Default bucket for callers that work in one bucket (feedback, serving); optional for the rest. */
  bucket?: string;
  /** When both keys are undefined the SDK's default credential chain is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  region: string;
}

export const S3_ENV = {
  endpoint: 'AREYOUACAT_S3_ENDPOINT',
  bucket: 'AREYOUACAT_S3_BUCKET',
  accessKeyId: 'AREYOUACAT_S3_ACCESS_KEY_ID',
  secretAccessKey: 'AREYOUACAT_S3_SECRET_ACCESS_KEY',
  region: 'AREYOUACAT_S3_REGION',
} as const;

/**
 * Read the S3 settings from AREYOUACAT_S3_* variables; `overrides` win over the environment.
 * A key given without its partner is an error (a half-configured store would fail later with a vaguer message).
 */
export function s3ConfigFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<S3Config> = {},
): S3Config {
  const pick = (k: keyof typeof S3_ENV) => {
    const v = overrides[k] ?? env[S3_ENV[k]];
    return v === undefined || v === '' ? undefined : v;
  };
  return normalizeS3Config({
    endpoint: pick('endpoint'),
    bucket: pick('bucket'),
    accessKeyId: pick('accessKeyId'),
    secretAccessKey: pick('secretAccessKey'),
    region: pick('region') ?? 'us-east-1',
  });
}

/** Check a config and return a cleaned copy (endpoint without a trailing slash). */
export function normalizeS3Config(config: S3Config): S3Config {
  const out: S3Config = { ...config, region: config.region || 'us-east-1' };
  if (out.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(out.endpoint);
    } catch {
      throw new Error(`S3 endpoint "${out.endpoint}" is not a URL (expected e.g. http://127.0.0.1:7480)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`S3 endpoint "${out.endpoint}" must start with http:// or https://`);
    }
    out.endpoint = out.endpoint.replace(/\/+$/, '');
  }
  if ((out.accessKeyId === undefined) !== (out.secretAccessKey === undefined)) {
    throw new Error(
      `S3 credentials are incomplete: set both ${S3_ENV.accessKeyId} and ${S3_ENV.secretAccessKey} (or neither)`,
    );
  }
  return out;
}

/** Split `s3://bucket/some/prefix` into bucket and prefix (prefix without leading slash, '' for the root). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`"${url}" is not an S3 URL (expected s3://bucket/prefix)`);
  const bucket = m[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`"${bucket}" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }
  return { bucket, prefix: m[2].replace(/^\/+/, '') };
}
