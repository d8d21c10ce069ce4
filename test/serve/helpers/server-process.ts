import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/**
 * `areyouacat`'s server in a child process (so its memory can be measured alone): started by
 * server-process-main.ts with the JSON options given, in the AREYOUACAT_HOME of `env`.
 */
export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Lines the server logged (stderr). */
  logs: string[];
  /** Resident memory now and its peak so far (VmRSS, VmHWM), in bytes. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

export async function startServerProcess(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/serve/helpers/server-process-main.ts', JSON.stringify(options)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    const lines = err.split('\n');
    err = lines.pop()!;
    logs.push(...lines);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code}) before listening:\n${logs.join('\n')}${err}`)));
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    child,
    logs,
    memory() {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb('VmRSS'), peak: kb('VmHWM') };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
