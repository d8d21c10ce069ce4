import type { Command } from 'commander';
import { runDeployPipeline } from '../../pipelines/deploy-pipeline.js';
import { refreshSiteData } from '../../pipelines/refresh-site.js';
import { readPromoted } from '../../registry/registry.js';
import { startServer } from '../../serve/server.js';
import { reservePort } from '../../serve/port-check.js';
import { action } from '../program.js';
import { cliLog } from '../log.js';
import { pipelineOptions, DEFAULT_DATA } from './pipeline.js';

/** What `npm start` trains on: the built-in synthetic set (a stand-in for real photos). */
export const START_DATA = `${DEFAULT_DATA}:seed=1,n=1600`;
export const START_EPOCHS = 15;

/**
 * The first-run experience: the deploy pipeline on the embedded default (synthetic set), the report site built,
 * and the server started with its local S3, then the URL. Everything is cached, so a second start is quick.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Deploy on the built-in synthetic set, build the report site, and serve it all (the first-run path)')
    .option('--data <spec>', 'data to train on', START_DATA)
    .option('--epochs <n>', 'most epochs to train', (v) => Number(v), START_EPOCHS)
    .option('--port <port>', 'TCP port', (v) => Number(v), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--no-train', 'skip the pipeline and serve what is promoted')
    .action(
      action(async (opts: { data: string; epochs: number; port: number; host: string; train: boolean }) => {
        const log = cliLog;
        const t0 = Date.now();
        if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`--port must be 0-65535 (got ${opts.port})`);
        // The port first: a first run works for minutes before it serves, and should not find out only then.
        const port = await reservePort(opts.port, opts.host);
        if (opts.train) {
          const flags = {
            data: opts.data, seed: 1, threshold: 'balanced', epochs: opts.epochs, patience: 4, allowCheck: [], trials: 0,
            strategy: 'successive-halving' as const, minEpochs: 1, maxEpochs: 1,
          };
          const result = await runDeployPipeline({ ...pipelineOptions(flags, log), refreshSite: () => refreshSiteData(log) });
          const d = result.decision;
          log(result.alreadyPromoted ? `v${result.version.version} is already promoted` : `gate: ${d?.action} v${result.version.version}: ${d?.reasons.join('; ')}`);
        } else {
          await refreshSiteData(log);
        }
        const promoted = await readPromoted();
        if (!promoted) log('warning: no model is promoted; the predict API answers 503 until one is (see `areyouacat registry`)');
        await port.release();
        const srv = await startServer({ port: opts.port, host: opts.host, log });
        log(`ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        process.stdout.write(
          `\nareyouacat is running: ${srv.url}\n` +
            `  report site and predict page: ${srv.url}/  (${srv.url}/predict)\n` +
            `  API: POST ${srv.url}/api/predict (an image body), GET ${srv.url}/api/health, GET ${srv.url}/metrics\n` +
            `  model: ${promoted ? `v${promoted.version} (threshold ${promoted.card.threshold.toFixed(3)})` : 'none'}; feedback goes to ${srv.localS3 ? 'the local S3 under data/s3' : 'the configured S3'}\n` +
            `Ctrl-C stops.\n`,
        );
        const stop = () => {
          srv.close().then(
            () => process.exit(0),
            (err: unknown) => {
              log(`error: stopping the server: ${(err as Error)?.message ?? String(err)}`);
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
    );
}
