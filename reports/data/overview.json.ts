import { overviewPageData } from '../../src/site/overview.js';

process.stdout.write(JSON.stringify(await overviewPageData()));
