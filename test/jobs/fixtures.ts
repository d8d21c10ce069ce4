import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { prepareImage } from '../../src/data/prepare.js';
import type { PreparedSplit } from '../../src/data/types.js';
import { seededRandom } from '../../src/model/random.js';
import type { TrainPipelineOptions } from '../../src/pipelines/train-pipeline.js';

/**
 * The small pipeline the job tests run on every executor: 96 synthetic images, a small CNN for one epoch, and a
 * seeded search of 3 trials by successive halving on 2 workers (so trial jobs, rungs and resumes all happen).
 */
export const SMALL_TUNED_PIPELINE: TrainPipelineOptions = {
  data: 'synthetic:seed=5,n=96',
  backbone: null,
  epochs: 1,
  hyperparameters: { filters: [8, 16, 16], denseUnits: 16 },
  tune: { trials: 3, strategy: 'successive-halving', minEpochs: 1, maxEpochs: 2, eta: 2, seed: 7, workers: 2 },
  allowChecks: ['property-drift'],
  log: () => {},
};

/** A folder source of `n` generated PNG photos (`cat/` and `misc/`), and the split ingest would prepare from it. */
export async function photoFolder(root: string, n: number, size: number, seed = 1): Promise<PreparedSplit> {
  const random = seededRandom(`photos:${seed}`);
  const paths: string[] = [];
  const groups: string[] = [];
  const prepared: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const group = i % 2 ? 'cat' : 'misc';
    const raw = Buffer.alloc(size * size * 3);
    const bg = 30 + random() * 90;
    for (let p = 0; p < raw.length; p++) raw[p] = bg + random() * 60;
    const cx = size * (0.3 + 0.4 * random());
    const r = size * (0.1 + 0.15 * random());
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if ((x - cx) ** 2 + (y - size / 2) ** 2 < r * r) raw.fill(220, (y * size + x) * 3, (y * size + x) * 3 + 3);
    const rel = `${group}/${String(i).padStart(3, '0')}.png`;
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const png = await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
    await fs.writeFile(file, png);
    paths.push(rel);
    groups.push(group);
    prepared.push(await prepareImage(png, size));
  }
  const per = size * size * 3;
  const pixels = new Uint8Array(n * per);
  prepared.forEach((p, i) => pixels.set(p, i * per));
  return { size, n, pixels, labels: Uint8Array.from(groups.map((g) => (g === 'cat' ? 1 : 0))), groups, paths };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker wrote to stderr so far. */
  output(): string;
  /** Resolves when `pattern` appears in the output (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal). */
  exited: Promise<number | string>;
}

/** Tests run from the repository root. */
const ROOT = process.cwd();

/** Run the CLI (`node bin/areyouacat.js ...`) as a child process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'areyouacat.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const listeners = new Set<() => void>();
  // The CLI logs one JSON object per line when its output is not a terminal: keep each line's message (and its
  // fields), so tests match what a person reads; other lines are kept as they are.
  const readable = (line: string): string => {
    if (!line.startsWith('{')) return line;
    try {
      const { msg, level: _level, time: _time, ...fields } = JSON.parse(line) as { msg?: string; level?: string; time?: string };
      if (typeof msg !== 'string') return line;
      return Object.keys(fields).length ? `${msg} ${JSON.stringify(fields)}` : msg;
    } catch {
      return line;
    }
  };
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) out += `${readable(line)}\n`;
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => out + partial,
    exited,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out + partial)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${out}${partial}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!pattern.test(out + partial)) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`process exited before ${pattern}:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** Start `areyouacat worker` and wait until it is taking jobs. */
export async function startWorker(url: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<WorkerProcess> {
  const w = runCli(['worker', '--queue', url, '--lock-duration', '4000', ...extra], env);
  await w.waitFor(/^worker \S+ on redis:/m);
  return w;
}

export async function stopWorker(w: WorkerProcess | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGKILL');
  await w.exited;
}
