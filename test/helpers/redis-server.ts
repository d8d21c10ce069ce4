import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** Whether a `redis-server` binary is on the PATH (tests that need one skip with this message otherwise). */
export const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
export const NO_REDIS_MESSAGE = 'redis-server is not installed (apt-get install redis-server); skipping the queue tests';

export interface TestRedis {
  port: number;
  url: string;
  /** Kill the server (SIGKILL when `hard`) and wait for it to exit. */
  stop(hard?: boolean): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller binds it again right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Start `redis-server` on a free loopback port with no persistence, and wait (bounded) until it accepts
 * connections. `port` reuses a port (to restart a server where clients expect it).
 */
export async function startTestRedis(port?: number): Promise<TestRedis> {
  const p = port ?? (await freePort());
  const child: ChildProcess = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(p))) {
    if (exited) throw new Error(`redis-server on port ${p} exited at start`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${p} did not accept connections within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    async stop(hard = false) {
      if (!exited) child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exit;
    },
  };
}
