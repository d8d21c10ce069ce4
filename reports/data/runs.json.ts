import { runsListData } from '../../src/site/runs.js';

process.stdout.write(JSON.stringify(await runsListData()));
