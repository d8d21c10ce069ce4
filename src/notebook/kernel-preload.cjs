'use strict';
// Loaded into the notebook kernel with `node --require` (see scripts/notebooks.ts).
//
// tslab keeps a TypeScript watch program over the cells and the modules they import. When a directory it watches
// changes between two cells (a file saved or created under src/ while the notebook is open), TypeScript schedules
// a resolution refresh through tslab's one-slot timer, and the next cell fails with "Unexpected pending
// rebuildTimer" -- as does every cell after it until the kernel restarts. Without directory watches that cannot
// happen; edited files are still picked up through tslab's file watches. A module created after a cell failed to
// import it needs a kernel restart.
const ts = require('@tslab/typescript-for-tslab');

ts.sys.watchDirectory = () => ({ close() {} });

// Child processes of the kernel (e.g. tuning workers) need none of this.
if (process.env.NODE_OPTIONS) {
  process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/--require[= ]"[^"]*kernel-preload\.cjs"/, '').trim();
  if (!process.env.NODE_OPTIONS) delete process.env.NODE_OPTIONS;
}
