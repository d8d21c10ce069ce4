import { describe, expect, it } from 'vitest';
import { parseS3Url, s3ConfigFromEnv } from '../../src/storage/s3-config.js';

describe('s3ConfigFromEnv', () => {
  it('reads the AREYOUACAT_S3_* variables', () => {
    const c = s3ConfigFromEnv({
      AREYOUACAT_S3_ENDPOINT: 'http://127.0.0.1:7480/',
      AREYOUACAT_S3_BUCKET: 'cats',
      AREYOUACAT_S3_ACCESS_KEY_ID: 'ak',
      AREYOUACAT_S3_SECRET_ACCESS_KEY: 'sk',
      AREYOUACAT_S3_REGION: 'eu-west-1',
    });
    expect(c).toEqual({ endpoint: 'http://127.0.0.1:7480', bucket: 'cats', accessKeyId: 'ak', secretAccessKey: 'sk', region: 'eu-west-1' });
  });

  it('lets overrides win and defaults the region', () => {
    const c = s3ConfigFromEnv({ AREYOUACAT_S3_BUCKET: 'a' }, { bucket: 'b' });
    expect(c.bucket).toBe('b');
    expect(c.region).toBe('us-east-1');
    expect(c.endpoint).toBeUndefined();
  });

  it('rejects half-set credentials and a bad endpoint', () => {
    expect(() => s3ConfigFromEnv({ AREYOUACAT_S3_ACCESS_KEY_ID: 'ak' })).toThrow(/credentials are incomplete/);
    expect(() => s3ConfigFromEnv({ AREYOUACAT_S3_ENDPOINT: 'localhost:9000' })).toThrow(/must start with http/);
    expect(() => s3ConfigFromEnv({ AREYOUACAT_S3_ENDPOINT: 'not a url' })).toThrow(/not a URL/);
  });
});

describe('parseS3Url', () => {
  it('splits bucket and prefix', () => {
    expect(parseS3Url('s3://cats-v1/train/photos')).toEqual({ bucket: 'cats-v1', prefix: 'train/photos' });
    expect(parseS3Url('s3://cats-v1')).toEqual({ bucket: 'cats-v1', prefix: '' });
    expect(parseS3Url('s3://cats-v1/')).toEqual({ bucket: 'cats-v1', prefix: '' });
  });
  it('rejects what is not an S3 URL', () => {
    expect(() => parseS3Url('http://x/y')).toThrow(/not an S3 URL/);
    expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow(/not a valid S3 bucket name/);
  });
});
