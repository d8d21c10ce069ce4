import { execFile } from 'node:child_process';

function git(args: string[], cwd: string): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile('git', args, { cwd, timeout: 3000, windowsHide: true }, (err, stdout) => resolve(err ? null : stdout.trim()));
    } catch {
      resolve(null);
    }
  });
}

/** Commit of the checkout at `cwd` and whether tracked files changed; nulls when git or a repository is missing. */
export async function gitInfo(cwd = process.cwd()): Promise<{ commit: string | null; dirty: boolean | null }> {
  const commit = await git(['rev-parse', 'HEAD'], cwd);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return { commit: null, dirty: null };
  const status = await git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, dirty: status === null ? null : status.length > 0 };
}

/** Whether a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
