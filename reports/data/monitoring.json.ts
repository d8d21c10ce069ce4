import { monitoringPageData } from '../../src/site/monitoring.js';

process.stdout.write(JSON.stringify(await monitoringPageData()));
