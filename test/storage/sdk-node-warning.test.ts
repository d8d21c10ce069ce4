/**
 * Issue 26, first run: every start printed the AWS SDK's "will require node >=22" warning although this project
 * supports Node 20.19+ and pins the SDK release it installs. Creating the project's S3 client prints no such warning.
 * A fresh Node process (the warning is emitted once per process), the real client.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the project S3 client on Node 20', () => {
  it('does not print the SDK node-version warning', async () => {
    const script = `
      import { S3Store } from './src/storage/s3-client.ts';
      const s = new S3Store({ endpoint: 'http://127.0.0.1:9', accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1' }, { maxAttempts: 1, connectTimeoutMs: 200 });
      await s.headObject('b', 'k').catch(() => undefined);
      s.close();
      await new Promise((r) => setTimeout(r, 200));
      console.log('done');
    `;
    const child = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), '--input-type=module', '-e', script], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(out).toContain('done');
    expect(err).not.toMatch(/NodeVersionSupportWarning|node >=22/);
  }, 120_000);
});
