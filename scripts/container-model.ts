// A small model in a fresh data folder, for testing the container image (scripts/container.sh test):
//   tsx scripts/container-model.ts DATA_DIR
// Builds an untrained 32x32 CNN, registers it in DATA_DIR/registry and promotes it (forced: it has not earned
// the gate), then writes DATA_DIR/../photo.jpg, a generated test image. The server needs only the registry.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../src/model/cnn.js';
import { selectBackend } from '../src/model/backend.js';
import { saveModel } from '../src/model/io.js';
import { promote, registerModel } from '../src/registry/registry.js';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: container-model.ts DATA_DIR\n');
  process.exit(2);
}
const root = path.resolve(dataDir);
const imageSize = 32;
await selectBackend({ prefer: 'wasm' });
const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize, filters: [4, 8, 8], denseUnits: 8 }, 1);
const modelDir = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-container-model-'));
try {
  await saveModel(model, modelDir);
  model.dispose();
  const registry = path.join(root, 'registry');
  const version = await registerModel({
    root: registry,
    modelDir,
    runId: null,
    dataset: { name: 'container-test', manifestHash: 'container-test' },
    metrics: { precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5, rocAuc: 0.5, prAuc: 0.5 },
    threshold: 0.5,
    thresholdStrategy: 'fixed',
    imageSize,
  });
  await promote(version.version, { root: registry, force: true, reason: 'container test model' });
} finally {
  await fs.rm(modelDir, { recursive: true, force: true });
}

// A 96x64 gradient with a disc: a real JPEG for the predict route (the model is untrained; any p is fine).
const w = 96;
const h = 64;
const px = Buffer.alloc(w * h * 3);
for (let y = 0; y < h; y++) {
  for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    const disc = (x - 48) ** 2 + (y - 32) ** 2 < 400;
    px[i] = disc ? 230 : (x * 255) / w;
    px[i + 1] = disc ? 140 : (y * 255) / h;
    px[i + 2] = disc ? 40 : 120;
  }
}
await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(path.dirname(root), 'photo.jpg'));
process.stdout.write(`registered and promoted a ${imageSize}x${imageSize} test model in ${path.join(root, 'registry')}\n`);
