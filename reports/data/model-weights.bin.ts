import { promotedBrowserModel } from '../../src/site/model.js';

// The promoted model's weight shards concatenated in manifest order (empty when nothing is promoted).
process.stdout.write((await promotedBrowserModel()).weights);
