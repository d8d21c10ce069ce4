import fs from 'node:fs';
import path from 'node:path';

/**
 * The report site's builder (Observable Framework) is a development dependency: a production install
 * (`npm ci --omit=dev`) serves an already built site and the API, but cannot build one.
 */
export const SITE_BUILDER_PACKAGE = '@observablehq/framework';

/** Why the report site cannot be built under `root`, or null when its builder is installed. */
export function siteBuilderMissing(root: string): string | null {
  if (fs.existsSync(path.join(root, 'node_modules', ...SITE_BUILDER_PACKAGE.split('/'), 'package.json'))) return null;
  return (
    `the report site builder is not installed (${SITE_BUILDER_PACKAGE} is a development dependency, left out by ` +
    `npm ci --omit=dev): npm install --include=dev, or build the site elsewhere and copy dist/reports`
  );
}
