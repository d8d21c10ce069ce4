import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { feedbackClientSalt, FEEDBACK_SALT_ENV } from '../../src/feedback/client-salt.js';
import { clientHash } from '../../src/feedback/feature-record.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'client-salt-'));
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('feedback client salt', () => {
  it('is made once at random, kept private in the data folder, and the same on every later start', async () => {
    const file = path.join(tmp, 'a', 'feedback-salt');
    const first = await feedbackClientSalt(file, {});
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await feedbackClientSalt(file, {})).toBe(first);
    expect(await feedbackClientSalt(path.join(tmp, 'b', 'feedback-salt'), {})).not.toBe(first);
    expect((await fs.readdir(path.join(tmp, 'a'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('servers starting at once agree on one salt', async () => {
    const file = path.join(tmp, 'race', 'feedback-salt');
    const salts = await Promise.all(Array.from({ length: 8 }, () => feedbackClientSalt(file, {})));
    expect(new Set(salts).size).toBe(1);
    expect((await fs.readFile(file, 'utf8')).trim()).toBe(salts[0]);
  });

  it(`takes ${FEEDBACK_SALT_ENV} when set (replicas share it) and refuses a short one or a broken file`, async () => {
    const file = path.join(tmp, 'env', 'feedback-salt');
    expect(await feedbackClientSalt(file, { [FEEDBACK_SALT_ENV]: 'a-shared-secret-of-replicas' })).toBe('a-shared-secret-of-replicas');
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
    await expect(feedbackClientSalt(file, { [FEEDBACK_SALT_ENV]: 'short' })).rejects.toThrow(/at least 16 characters/);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, 'x\n');
    await expect(feedbackClientSalt(file, {})).rejects.toThrow(/no usable feedback salt/);
  });

  it('salts the client hash: the same address gives another hash in another deployment', () => {
    const a = clientHash('203.0.113.7', 'salt-of-deployment-a');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(clientHash('203.0.113.7', 'salt-of-deployment-a')).toBe(a);
    expect(clientHash('203.0.113.7', 'salt-of-deployment-b')).not.toBe(a);
    expect(clientHash('203.0.113.8', 'salt-of-deployment-a')).not.toBe(a);
  });
});
