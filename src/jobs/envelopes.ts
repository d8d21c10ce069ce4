import { randomBytes } from 'node:crypto';
import type { JobEnvelope, JobSpec } from './job.js';

/** Give each job an id unique to this batch (`<kind>-<batch>-<index>`) and the coordinator's code version. */
export function envelopes(jobs: JobSpec[], codeVersion: string): JobEnvelope[] {
  const batch = randomBytes(4).toString('hex');
  return jobs.map((job, i) => ({ ...job, id: `${job.kind}-${batch}-${i}`, codeVersion }));
}
