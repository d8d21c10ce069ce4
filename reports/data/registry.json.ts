import { registryPageData } from '../../src/site/registry.js';

process.stdout.write(JSON.stringify(await registryPageData()));
