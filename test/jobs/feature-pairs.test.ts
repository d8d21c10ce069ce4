import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeaturesWithJobs } from '../../src/jobs/feature-jobs.js';
import type { Executor, JobSpec } from '../../src/jobs/job.js';
import { LocalExecutor } from '../../src/jobs/local-executor.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import type { PreparedSplit } from '../../src/data/types.js';
import { saveEnv } from '../helpers/env.js';
import { photoFolder } from './fixtures.js';

// A split asked for plain and mirrored goes as one set of jobs (each photo read and decoded once for both views);
// the features must be exactly those computed one view at a time.
describe('feature jobs for both views of a split', () => {
  let tmp: string;
  let photos: string;
  let split: PreparedSplit;
  const restore = saveEnv(['AREYOUACAT_HOME']);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-pairs-'));
    process.env.AREYOUACAT_HOME = path.join(tmp, 'home');
    photos = path.join(tmp, 'photos');
    split = await photoFolder(photos, 12, 64);
  }, 120_000);
  afterAll(async () => {
    restore();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('computes plain and mirrored in the same jobs, equal to each view computed alone', async () => {
    const read = ({ path: p }: { path: string }) => fs.readFile(path.join(photos, p));
    const backbone = 'coco-centernet';
    const plain = await imageFeatures(split, { backbone, batchSize: 4, photos: read });
    const mirrored = await imageFeatures(split, { backbone, batchSize: 4, photos: read, flip: true });
    const pool = new LocalExecutor({ workers: 2 });
    const sent: JobSpec[] = [];
    const counting: Executor = {
      local: true,
      description: pool.description,
      run: <O>(jobs: JobSpec[], options?: Parameters<Executor['run']>[1]) => {
        sent.push(...jobs);
        return pool.run<O>(jobs, options);
      },
      close: () => pool.close(),
    };
    try {
      const [a, b] = await computeFeaturesWithJobs({ backbone, views: [{ images: split, flip: false }, { images: split, flip: true }], sourceSpec: photos, executor: counting, shardSize: 4, batchSize: 4 });
      expect(sent.length).toBe(3); // 12 photos in shards of 4, each shard both views
      expect(Array.from(a.data)).toEqual(Array.from(plain.data));
      expect(Array.from(b.data)).toEqual(Array.from(mirrored.data));
      expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    } finally {
      await pool.close();
    }
  }, 300_000);
});
