#!/usr/bin/env node
// Thin launcher: runs the TypeScript CLI through tsx's loader, so no build step is needed.
// The Node.js floor, checked before anything else loads (the same check as src/cli/require-node.ts).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19) || major >= 23) {
  process.stderr.write(`error: areyouacat needs Node.js 20 (from 20.19) or 22; this is ${process.versions.node}. Install a newer Node.js (for example with nvm: nvm install 20).\n`);
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
