import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_CARD_FILE, getVersion, registerFromRun, registerModel, renderModelCardMarkdown, trainingSources } from '../../src/registry/index.js';
import { evaluate } from '../../src/evaluation/report.js';
import { startRun } from '../../src/tracking/runs.js';
import { card, fakeModelDir } from './fixtures/fake-model.js';

let tmp: string;
let root: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-card-'));
  root = path.join(tmp, 'registry');
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A test split with every group and some errors: a dog called a cat, a cat missed. */
const split = {
  labels: [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  probs: [0.95, 0.9, 0.8, 0.2, 0.7, 0.1, 0.2, 0.1, 0.3, 0.05, 0.1, 0.2],
  groups: ['cat', 'cat', 'cat', 'cat', 'dog', 'dog', 'dog', 'selfie', 'selfie', 'selfie', 'misc', 'misc'],
  paths: ['c1.jpg', 'c2.jpg', 'c3.jpg', 'c4-dark.jpg', 'd1-fluffy.jpg', 'd2.jpg', 'd3.jpg', 's1.jpg', 's2.jpg', 's3.jpg', 'm1.jpg', 'm2.jpg'].map((f) => `photos/${f}`),
};

describe('model cards', () => {
  it('registering a run writes MODEL_CARD.md next to the model: use, data and licences, per-group evaluation, failure modes, threshold', async () => {
    const runsRoot = path.join(tmp, 'runs');
    const run = await startRun({ name: 'train', root: runsRoot, params: { imageSize: 64, backbone: 'coco-centernet' }, dataset: { name: 'oxford-iiit-pet', manifestHash: 'mh-1' } });
    const modelDir = await fakeModelDir(path.join(tmp, 'm'), 9);
    // The backbone layer as saveModel writes it (snake_case config keys): the card takes the view from the model itself.
    const layer = { class_name: 'AreyouacatPretrainedBackbone', config: { backbone: 'coco-centernet', image_size: 64, view: 'whole-v1' } };
    await fs.writeFile(path.join(modelDir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { config: { layers: [layer] } }, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }] }));
    await run.copyArtifact('model', modelDir);
    await run.writeArtifact('evaluation.json', await evaluate({ val: { labels: [1, 1, 0, 0], probs: [0.6, 0.6, 0.4, 0.4] }, test: split, strategy: { kind: 'balanced' } }));
    await run.finish();
    const v = await registerFromRun(run.id, { root, runsRoot });

    const details = (await getVersion(v.version, { root })).card.details!;
    expect(details.training.sources.map((s) => s.licence)).toEqual(['CC BY-SA 4.0', expect.stringMatching(/CC BY 4\.0/)]);
    expect(details.training).toMatchObject({ backbone: 'coco-centernet', backboneView: 'whole-v1' });
    expect(details.evaluation.perGroup.map((g) => g.group).sort()).toEqual(['cat', 'dog', 'misc', 'selfie']);
    expect(details.threshold).toMatchObject({ strategy: 'balanced', chosenOn: 'val', value: 0.5, precision: 1, recall: 1 });
    expect(v.card.files).not.toContain(MODEL_CARD_FILE);

    const md = await fs.readFile(path.join(v.dir, MODEL_CARD_FILE), 'utf8');
    for (const heading of ['## Intended use', '## Training data', '## Evaluation', '## Known failure modes', '## Threshold']) expect(md).toContain(heading);
    expect(md).toContain('| Oxford-IIIT Pet | CC BY-SA 4.0 |');
    expect(md).toContain('Backbone: coco-centernet (view whole-v1).');
    expect(md).toContain('| dog | 3 | 0 | – | 0 | 0.333 |');
    expect(md).toMatch(/dog photos are called cats 33\.3% of the time/);
    expect(md).toMatch(/of the cat photos with cats are missed/);
    expect(md).toContain('d1-fluffy.jpg');
    expect(md).toContain('c4-dark.jpg');
    expect(md).toMatch(/where precision equals recall/);
    expect(md).toMatch(/Per source: not available/);
  });

  it('a model registered without a run still gets a card that says what is not known', async () => {
    const c = card(0, { precision: 0.9 }, 'h');
    const v = await registerModel({ root, modelDir: await fakeModelDir(path.join(tmp, 'bare'), 1), runId: null, dataset: c.dataset, metrics: c.metrics, threshold: 0.4, thresholdStrategy: 'fixed:0.4', imageSize: 64 });
    const md = await fs.readFile(path.join(v.dir, MODEL_CARD_FILE), 'utf8');
    expect(md).toBe(renderModelCardMarkdown(v.card));
    expect(md).toMatch(/p\(cat\) >= 0\.4 is a cat \(strategy `fixed:0\.4`\)/);
    expect(md).toMatch(/not recorded/);
  });

  it('names the licences of the known data sets', () => {
    expect(trainingSources('synthetic-seed-1')[0].licence).toMatch(/no third-party images/);
    expect(trainingSources('caltech-101')[0].licence).toBe('CC BY 4.0');
    expect(trainingSources('cats-v1').map((s) => s.licence).join(' ')).toMatch(/non-commercial research only/);
    expect(trainingSources('my-photos')[0].name).toMatch(/your photos/);
  });
});
