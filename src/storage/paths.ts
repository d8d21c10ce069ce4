import fs from 'node:fs';
import path from 'node:path';

/**
 * Where everything the tool writes lives. The root defaults to `./data` under the current directory and can
 * be moved with AREYOUACAT_HOME (tests point it at a temp folder).
 */
export function dataRoot(): string {
  return path.resolve(process.env.AREYOUACAT_HOME ?? 'data');
}

export const paths = {
  root: () => dataRoot(),
  datasets: () => path.join(dataRoot(), 'datasets'),
  dataset: (name: string) => path.join(dataRoot(), 'datasets', name),
  preparedCache: () => path.join(dataRoot(), 'cache', 'prepared'),
  stepCache: () => path.join(dataRoot(), 'cache', 'steps'),
  featureCache: () => path.join(dataRoot(), 'cache', 'features'),
  /** Model versions a replica downloaded from S3 (serve --model-from). */
  remoteModels: () => path.join(dataRoot(), 'cache', 'models'),
  downloads: () => path.join(dataRoot(), 'downloads'),
  runs: () => path.join(dataRoot(), 'runs'),
  registry: () => path.join(dataRoot(), 'registry'),
  s3: () => path.join(dataRoot(), 's3'),
  feedbackQueue: () => path.join(dataRoot(), 'feedback-queue'),
  /** The salt of the feedback client hash when AREYOUACAT_FEEDBACK_SALT is not set (made once, mode 0600). */
  feedbackSalt: () => path.join(dataRoot(), 'feedback-salt'),
  monitoring: () => path.join(dataRoot(), 'monitoring'),
};

/**
 * The project's root folder (where its package.json lives), found by walking up from the current directory.
 * Used to start worker processes and locate the report site; falls back to the current directory.
 */
export function projectRoot(): string {
  let dir = process.cwd();
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'areyouacat') return dir;
    } catch {
      // keep walking
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
