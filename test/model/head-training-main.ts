// A fresh process that trains averaged heads without selecting a backend first (as a script or notebook would),
// printing the head's logits on fixed rows: head-training.test.ts compares them with the same training in its own
// process, where the backend was selected long before.
import { trainModel } from '../../src/model/train.js';
import { headOf, pretrainedBackboneOf } from '../../src/model/backbone-layer.js';
import { predictFromFeatures } from '../../src/model/backbone-features.js';
import { featureRows, linearHead, splitOf } from './head-rows.js';

void (async () => {
  const train = featureRows(64, 770, 4);
  const val = featureRows(32, 770, 5);
  const test = featureRows(12, 770, 6).views[0];
  const hp = { ...linearHead, dropout: 0.7, averagedHeads: 2 };
  const r = await trainModel(hp, splitOf(train.labels), splitOf(val.labels), { epochs: 3, seed: 21, classWeight: 'balanced', features: { train: train.views, val: val.views[0], valMirrored: val.views[1] } });
  const p = await predictFromFeatures(headOf(r.model, pretrainedBackboneOf(r.model)), test);
  process.stdout.write(JSON.stringify(Array.from(p, (v) => Math.log(v / (1 - v)))) + '\n');
})();
