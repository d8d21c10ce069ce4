import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Log } from '../progress/index.js';
import { paths, projectRoot } from './paths.js';

export interface LocalS3Options {
  /** Folder for the objects; defaults to the data dir's `s3` folder. */
  dir?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; loopback by default. */
  host?: string;
  /** Buckets to create at start (existing ones are kept). */
  buckets?: string[];
  /** Longest wait for the server process to listen (default 30 s). */
  startTimeoutMs?: number;
  /** Told when the server process dies and is started again. */
  log?: Log;
}

export interface LocalS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dir: string;
  /** Process id of the S3 server process now running (it changes when a crashed one is restarted). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;
/** Restarts in a row that failed to listen before the local S3 is given up on. */
const MAX_FAILED_RESTARTS = 5;
const STOP_GRACE_MS = 5000;

/** The script run in the S3 server process (plain CommonJS: it needs no TypeScript loader). */
function serverScript(): string {
  return path.join(projectRoot(), 'src', 'storage', 'local-s3-server.cjs');
}

interface Started {
  child: ChildProcess;
  address: string;
  port: number;
}

/** Fork the server process and wait (bounded) for it to listen or fail. */
function spawnServer(settings: { dir: string; host: string; port: number; buckets: string[] }, timeoutMs: number): Promise<Started> {
  const child = fork(serverScript(), [JSON.stringify(settings)], {
    // No inherited loader or inspector flags: the script is plain JavaScript.
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
  });
  return new Promise<Started>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
    child.once('message', (m: { ready?: { address: string; port: number }; error?: string }) => {
      if (!m.ready) return fail(m.error ?? 'unknown error');
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ child, ...m.ready });
    });
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`the server process exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`));
  });
}

/**
 * An S3-compatible server (s3rver) in a child process bound to loopback, storing objects as files under `dir`.
 * Good for `npm start` and fast tests; production should point AREYOUACAT_S3_ENDPOINT at a real S3. s3rver is
 * unmaintained and carries dependencies with published vulnerabilities, so it never runs in the caller's
 * process: the child dies with its parent (IPC), is stopped by `stop()` or when this process exits, and a crash of
 * it only makes S3 requests fail (the feedback queue keeps them) until it is restarted on the same port.
 * s3rver accepts any keys; these are the ones it documents. Use `S3Store.listKeys` (ListObjects v1 with markers)
 * to list more than 1000 keys: s3rver's ListObjectsV2 continuation tokens use DES, which Node 20's OpenSSL refuses
 * unless it runs with --openssl-legacy-provider.
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const dir = options.dir ?? paths.s3();
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const log = options.log ?? (() => undefined);
  await fs.mkdir(dir, { recursive: true });
  const settings = { dir, host, port: options.port ?? 0, buckets: options.buckets ?? [] };
  let current: Started;
  try {
    current = await spawnServer(settings, timeoutMs);
  } catch (err) {
    throw new Error(`cannot start the local S3 server on ${host}:${settings.port}: ${(err as Error).message}`);
  }
  // Restarts reuse the port, so clients keep their endpoint.
  settings.port = current.port;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let failedRestarts = 0;
  const killOnExit = () => current.child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const watch = (started: Started) => {
    started.child.once('exit', (code, signal) => {
      if (stopping) return;
      log(`local S3 server process exited (${signal ?? code}); starting it again in ${RESTART_DELAY_MS / 1000} s`);
      restartTimer = setTimeout(restart, RESTART_DELAY_MS);
    });
  };
  const restart = () => {
    restartTimer = undefined;
    spawnServer(settings, timeoutMs).then(
      (started) => {
        if (stopping) {
          started.child.kill('SIGKILL');
          return;
        }
        failedRestarts = 0;
        current = started;
        watch(started);
        log(`local S3 server process restarted (pid ${started.child.pid})`);
      },
      (err: Error) => {
        if (stopping) return;
        failedRestarts++;
        if (failedRestarts >= MAX_FAILED_RESTARTS) {
          log(`local S3 server could not be restarted (${err.message}); feedback stays queued on disk`);
          return;
        }
        restartTimer = setTimeout(restart, RESTART_DELAY_MS * 2 ** failedRestarts);
      },
    );
  };
  watch(current);

  const shownHost = current.address.includes(':') ? `[${current.address}]` : current.address;
  return {
    endpoint: `http://${shownHost}:${current.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    dir,
    pid: () => (current.child.exitCode === null && current.child.signalCode === null ? current.child.pid : undefined),
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      process.off('exit', killOnExit);
      const child = current.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
