import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** The environment variable that sets the salt of the feedback client hash (the same on every replica). */
export const FEEDBACK_SALT_ENV = 'AREYOUACAT_FEEDBACK_SALT';

/**
 * The secret the client hash of a feedback item is salted with, so that the hash cannot be turned back into an
 * address by hashing all 2^32 IPv4 addresses. From `AREYOUACAT_FEEDBACK_SALT` when set (replicas that share one
 * bucket set the same one, so a client counts once for the fine-tune's per-client cap); otherwise made once at
 * random and kept in `file` (created exclusively with mode 0600, so two servers starting at once agree on it).
 */
export async function feedbackClientSalt(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[FEEDBACK_SALT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) throw new Error(`${FEEDBACK_SALT_ENV} must be at least 16 characters (got ${fromEnv.length})`);
    return fromEnv;
  }
  const read = async () => (await fs.readFile(file, 'utf8')).trim();
  try {
    const salt = await read();
    if (salt.length >= 16) return salt;
    throw new Error(`${file} holds no usable feedback salt (fewer than 16 characters): remove it to make a new one, or set ${FEEDBACK_SALT_ENV}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const salt = randomBytes(32).toString('hex');
  // Write to a temporary name, then link it into place: the file appears complete or not at all, and of two
  // servers racing, the second finds the first one's salt.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, salt + '\n', { mode: 0o600 });
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return read();
}
