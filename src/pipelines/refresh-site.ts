import { spawn } from 'node:child_process';
import { siteBuilderMissing } from '../site/builder.js';
import { projectRoot } from '../storage/paths.js';
import type { Log } from '../progress/index.js';

/**
 * Rebuild the static report site so it shows the latest runs, validation, registry and monitoring data. On a
 * production install (no site builder) it says so and leaves the site as it is: the model and API do not need it.
 */
export async function refreshSiteData(log: Log = () => {}): Promise<void> {
  const root = projectRoot();
  const missing = siteBuilderMissing(root);
  if (missing) {
    log(`site: not rebuilt: ${missing}`);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'reports:build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`site build failed (exit ${code}):\n${tail}`))));
  });
  log('site: rebuilt');
}
