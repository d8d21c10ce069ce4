import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import { paths } from './paths.js';

export interface LocalS3Options {
  /** Folder for the objects; defaults to the data dir's `s3` folder. */
  dir?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; loopback by default. */
  host?: string;
  /** Buckets to create at start (existing ones are kept). */
  buckets?: string[];
}

export interface LocalS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * An S3-compatible server in this process (s3rver), storing objects as files under `dir`. Good for `npm start`
 * and fast tests; a real S3 or Ceph RGW is stricter. s3rver accepts any keys; these are the ones it documents.
 * Use `S3Store.listKeys` (ListObjects v1 with markers) to list more than 1000 keys: s3rver's ListObjectsV2
 * continuation tokens use DES, which Node 20's OpenSSL refuses unless it runs with --openssl-legacy-provider.
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const dir = options.dir ?? paths.s3();
  const host = options.host ?? '127.0.0.1';
  await fs.mkdir(dir, { recursive: true });
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory: dir,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  // s3rver's own listen() never settles when the port is taken (the error is emitted, not passed on):
  // listen through its callback form and turn the server's 'error' event into a rejection.
  const s3 = server as unknown as { listen(...args: unknown[]): Server | Promise<Server> };
  const listen = s3.listen.bind(s3);
  s3.listen = (...args: unknown[]) =>
    new Promise<Server>((resolve, reject) => {
      const srv = listen(...args, () => resolve(srv)) as Server;
      srv.once('error', reject);
    });
  let address;
  try {
    address = await server.run();
  } catch (err) {
    throw new Error(`cannot start the local S3 server on ${host}:${options.port ?? 0}: ${(err as Error).message}`);
  }
  const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    endpoint: `http://${shownHost}:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    dir,
    stop: () => server.close(),
  };
}
