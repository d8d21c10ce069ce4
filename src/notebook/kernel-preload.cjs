'use strict';
// Loaded into the notebook kernel with `node --require` (see scripts/notebooks.ts).
//
// tslab keeps a TypeScript watch program over the cells and the modules they import. When a directory it watches
// changes while a notebook is open (a package installed into node_modules, a file created where a module was
// looked up), TypeScript schedules a resolution refresh through tslab's one-slot timer while another is pending:
// the kernel dies with "Unexpected pending rebuildTimer", or the next cell fails with it
// (test/notebook/kernel-preload.test.ts reproduces this). Without directory watches that cannot happen; edited
// files are still picked up through tslab's file watches. A module that appears after a cell failed to import it
// needs a kernel restart.
const ts = require('@tslab/typescript-for-tslab');

ts.sys.watchDirectory = () => ({ close() {} });

// Child processes of the kernel (e.g. tuning workers) need none of this.
if (process.env.NODE_OPTIONS) {
  process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/--require[= ]"[^"]*kernel-preload\.cjs"/, '').trim();
  if (!process.env.NODE_OPTIONS) delete process.env.NODE_OPTIONS;
}
