import { predictSamples } from '../../src/site/samples.js';

// A few photos of the promoted model's test split, for the predict page's "try one" row.
process.stdout.write(JSON.stringify({ samples: await predictSamples() }));
