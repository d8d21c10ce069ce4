import { promotedBrowserModel } from '../../src/site/model.js';

// Topology, weight specs and card of the promoted model (`{"model": null}` when nothing is promoted).
process.stdout.write(JSON.stringify({ model: (await promotedBrowserModel()).model }));
