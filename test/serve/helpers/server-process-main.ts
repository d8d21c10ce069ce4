// Runs startServer with the JSON options of argv[2]; prints "listening URL"; stops on SIGTERM.
import { startServer, type ServeOptions } from '../../../src/serve/server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ServeOptions;
const srv = await startServer({ port: 0, siteRoot: null, snapshotMs: 0, ...options });
process.stdout.write(`listening ${srv.url}\n`);
process.once('SIGTERM', () => {
  void srv.close().then(() => process.exit(0));
});
