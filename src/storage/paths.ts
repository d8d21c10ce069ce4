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
  downloads: () => path.join(dataRoot(), 'downloads'),
  runs: () => path.join(dataRoot(), 'runs'),
  registry: () => path.join(dataRoot(), 'registry'),
  s3: () => path.join(dataRoot(), 's3'),
  feedbackQueue: () => path.join(dataRoot(), 'feedback-queue'),
  monitoring: () => path.join(dataRoot(), 'monitoring'),
};
