import { fork, type ChildProcess } from 'node:child_process';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onEvent?: (event: unknown) => void;
}

/**
 * A fixed pool of Node worker processes running one TypeScript module (through tsx). Each task is a message;
 * the worker answers `{id, result}` or `{id, error}` and may send `{id, event}` messages on the way (progress).
 * tfjs's wasm backend is single-threaded in Node, so processes are how a second core gets used.
 */
export class ProcessPool {
  private readonly idle: ChildProcess[] = [];
  private readonly queue: Array<{ task: unknown; pending: Pending }> = [];
  private readonly inFlight = new Map<ChildProcess, { id: number; pending: Pending }>();
  private readonly all: ChildProcess[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly script: string, size: number, private readonly env: NodeJS.ProcessEnv = process.env) {
    for (let i = 0; i < Math.max(1, size); i++) this.spawn();
  }

  private spawn(): void {
    const child = fork(this.script, [], { execArgv: ['--import', 'tsx'], env: this.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.all.push(child);
    child.on('message', (msg: { id: number; result?: unknown; error?: string; event?: unknown }) => {
      const job = this.inFlight.get(child);
      if (!job || job.id !== msg.id) return;
      if ('event' in msg) {
        job.pending.onEvent?.(msg.event);
        return;
      }
      this.inFlight.delete(child);
      if (msg.error !== undefined) job.pending.reject(new Error(msg.error));
      else job.pending.resolve(msg.result);
      this.release(child);
    });
    child.on('exit', (code, signal) => {
      const job = this.inFlight.get(child);
      this.inFlight.delete(child);
      const i = this.all.indexOf(child);
      if (i >= 0) this.all.splice(i, 1);
      const j = this.idle.indexOf(child);
      if (j >= 0) this.idle.splice(j, 1);
      if (job) job.pending.reject(new Error(`worker process exited (${signal ?? `code ${code}`}) while running a task`));
      // Replace a crashed worker so the remaining tasks still run.
      if (!this.closed) {
        this.spawn();
        this.pump();
      }
    });
    this.idle.push(child);
  }

  private release(child: ChildProcess): void {
    this.idle.push(child);
    this.pump();
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const child = this.idle.shift()!;
      const { task, pending } = this.queue.shift()!;
      const id = this.nextId++;
      this.inFlight.set(child, { id, pending });
      child.send({ id, task });
    }
  }

  run<T>(task: unknown, onEvent?: (event: unknown) => void): Promise<T> {
    if (this.closed) return Promise.reject(new Error('process pool is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, pending: { resolve: resolve as (v: unknown) => void, reject, onEvent } });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.all.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill();
          }),
      ),
    );
  }
}

/** The worker side: answer tasks with `handler`; `emit` sends progress events back to the parent. */
export function serveTasks(handler: (task: unknown, emit: (event: unknown) => void) => Promise<unknown>): void {
  const answer = async (msg: { id: number; task: unknown }) => {
    const emit = (event: unknown) => process.send?.({ id: msg.id, event });
    try {
      const result = await handler(msg.task, emit);
      process.send?.({ id: msg.id, result });
    } catch (err) {
      process.send?.({ id: msg.id, error: (err as Error).message });
    }
  };
  // answer() sends every failure back to the parent, so nothing is left to reject.
  process.on('message', (msg: { id: number; task: unknown }) => void answer(msg));
}
