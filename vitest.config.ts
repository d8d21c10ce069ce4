import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Pretrained files come from the local mirror beside the project (never from the publisher) when it is there.
const mirror = path.resolve('../shared/models');
const modelMirror = !process.env.AREYOUACAT_MODEL_MIRROR && fs.existsSync(mirror) ? { AREYOUACAT_MODEL_MIRROR: mirror } : {};

/**
 * The files whose tests compute ImageNet backbone features, the only ones that run on ONNX Runtime by default: they
 * run a second time on the tfjs-wasm fallback (AREYOUACAT_ENGINE=tfjs, project `tfjs`). Every other file computes no
 * ImageNet features (CNNs and the COCO backbone run on tfjs either way). Left out: the predict page in Chromium
 * (test/site/predict-backbone.test.ts), whose Node side is one prediction per photo that the places test covers.
 */
const ENGINE_FILES = [
  'test/model/imagenet-backbone.test.ts',
  'test/pipelines/imagenet-places.test.ts',
  'test/pipelines/sources.test.ts',
  'test/registry/onnx-export.test.ts',
  'test/e2e/feedback-finetune.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: keep heavy suites from fighting over them (both projects share these workers).
    maxWorkers: 2,
    pool: 'forks',
    env: modelMirror,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'tfjs', include: ENGINE_FILES, env: { ...modelMirror, AREYOUACAT_ENGINE: 'tfjs' } } },
    ],
  },
});
