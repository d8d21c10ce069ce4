import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Pretrained files come from the local mirror beside the project (never from the publisher) when it is there.
const mirror = path.resolve('../shared/models');
const modelMirror = !process.env.AREYOUACAT_MODEL_MIRROR && fs.existsSync(mirror) ? { AREYOUACAT_MODEL_MIRROR: mirror } : {};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: keep heavy suites from fighting over them.
    maxWorkers: 2,
    pool: 'forks',
    env: modelMirror,
  },
});
