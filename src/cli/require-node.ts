/**
 * Stops the CLI at once, with a message that says what to do, on a Node.js older than the dependencies need
 * (write-file-atomic 7 needs 20.17; the report site's and tests' tool chain (vite, rolldown) 20.19). Imported first
 * by `main.ts`, so it runs before any other module. `bin/areyouacat.js` makes the same check before it loads tsx.
 */
export const NODE_FLOOR = [20, 19, 0] as const;

export function nodeVersionProblem(version: string = process.versions.node): string | null {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  const [fm, fn, fp] = NODE_FLOOR;
  const older = major !== fm ? major < fm : minor !== fn ? minor < fn : patch < fp;
  if (older) return `areyouacat needs Node.js ${NODE_FLOOR.join('.')} or newer (20.x from 20.19, or 22); this is ${version}. Install a newer Node.js (for example with nvm: nvm install 20).`;
  if (major >= 23) return `areyouacat is tested on Node.js 20 and 22; this is ${version}. Use Node.js 20 or 22.`;
  return null;
}

const problem = nodeVersionProblem();
if (problem) {
  process.stderr.write(`error: ${problem}\n`);
  process.exit(1);
}
