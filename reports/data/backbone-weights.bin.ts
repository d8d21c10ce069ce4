import { promotedBrowserModel } from '../../src/site/model.js';

// The promoted model's pretrained backbone weights, resized for its input (empty for a CNN from scratch).
process.stdout.write((await promotedBrowserModel()).backboneWeights);
