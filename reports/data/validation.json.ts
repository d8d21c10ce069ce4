import { validationPageData } from '../../src/site/validation.js';

process.stdout.write(JSON.stringify(await validationPageData()));
