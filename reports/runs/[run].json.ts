import { parseArgs } from 'node:util';
import { runPageData } from '../../src/site/runs.js';

const { values } = parseArgs({ options: { run: { type: 'string' } } });
if (!values.run) throw new Error('usage: [run].json.ts --run=<run id>');
process.stdout.write(JSON.stringify(await runPageData(values.run)));
