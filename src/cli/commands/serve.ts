import type { Command } from 'commander';
import { action } from '../program.js';
import { cliLog } from '../log.js';
import { startServer } from '../../serve/server.js';
import { purgeExpired } from '../../serve/retention.js';
import { openFeedbackStorage, retentionDaysFromEnv } from '../../feedback/storage.js';
import { FeedbackQueue } from '../../feedback/queue.js';
import { DEFAULT_FEEDBACK_PREFIX } from '../../feedback/types.js';
import { paths } from '../../storage/paths.js';

function positiveNumber(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${name} must be a number >= 0 (got "${v}")`);
    return x;
  };
}

function wholeNumber(name: string, min = 0) {
  return (v: string) => {
    const x = Number(v);
    if (!/^\d+$/.test(v) || x < min) throw new Error(`${name} must be a whole number >= ${min} (got "${v}")`);
    return x;
  };
}

function rateLimit(v: string): { burst: number; perSecond: number } {
  const m = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new Error(`--rate-limit takes BURST/PER_SECOND, e.g. 30/10 (got "${v}")`);
  return { burst: Number(m[1]), perSecond: Number(m[2]) };
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('Serve the promoted model (POST /api/predict), feedback capture (POST /api/feedback), /api/health, /metrics and the report site')
    .option('--port <port>', 'TCP port', (v) => Number(v), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--site <dir>', 'built report site to serve at / (default: dist/reports)')
    .option('--no-site', 'serve the API only')
    .option('--max-upload-mb <mb>', 'largest accepted upload', positiveNumber('--max-upload-mb'), 10)
    .option('--max-pixels <pixels>', 'largest accepted image in pixels (default AREYOUACAT_SERVE_MAX_PIXELS or 16000000)', (v) => {
      const x = positiveNumber('--max-pixels')(v);
      if (!Number.isInteger(x) || x < 1) throw new Error(`--max-pixels must be a whole number >= 1 (got "${v}")`);
      return x;
    })
    .option('--rate-limit <burst/perSecond>', 'per-client token bucket for the POST routes (default 30/10)', rateLimit)
    .option('--no-rate-limit', 'turn the per-client rate limit off')
    .option('--retention-days <days>', 'delete feedback older than this (default AREYOUACAT_FEEDBACK_RETENTION_DAYS or 90)', positiveNumber('--retention-days'))
    .option(
      '--trust-proxy [N|addresses]',
      'behind your own proxies: take the client address from X-Forwarded-For, the nearest hop not added by a trusted ' +
        'proxy; N proxies (default 1) or their addresses/CIDRs, comma-separated',
    )
    .option('--workers <n>', 'inference worker threads (default AREYOUACAT_SERVE_WORKERS, else one per core; 0 = main thread)', wholeNumber('--workers'))
    .option('--max-batch <n>', 'largest forward-pass batch and largest N of a /v2 infer request', wholeNumber('--max-batch', 1), 32)
    .option('--model-name <name>', 'the model name on the Open Inference Protocol routes (/v2/models/NAME)', 'areyouacat')
    .option('--feedback-wait-ms <ms>', 'longest a feedback request waits for S3 before it answers 202 (queued on disk)', wholeNumber('--feedback-wait-ms'), 2000)
    .option('--model-from <url>', 'a replica: serve the models published at s3://bucket/prefix (registry publish) instead of the local registry, following promotions and rollbacks')
    .option('--model-poll-s <s>', 'how often the promoted model is checked (default 3 with --model-from, else 2)', positiveNumber('--model-poll-s'))
    .option('--replay-window-s <s>', 'a feedback replay (same photo, answer and prediction) within this window is not stored again', wholeNumber('--replay-window-s'), 600)
    .action(
      action(async (opts: {
        port: number;
        host: string;
        site: string | boolean;
        maxUploadMb: number;
        maxPixels?: number;
        rateLimit?: { burst: number; perSecond: number } | boolean;
        retentionDays?: number;
        trustProxy?: boolean | string;
        workers?: number;
        maxBatch: number;
        modelName: string;
        feedbackWaitMs: number;
        replayWindowS: number;
        modelFrom?: string;
        modelPollS?: number;
      }) => {
        if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`--port must be 0-65535`);
        const srv = await startServer({
          port: opts.port,
          host: opts.host,
          siteRoot: opts.site === false ? null : typeof opts.site === 'string' ? opts.site : undefined,
          maxUploadBytes: Math.round(opts.maxUploadMb * 1024 * 1024),
          maxPixels: opts.maxPixels,
          rateLimit: opts.rateLimit === false ? null : typeof opts.rateLimit === 'object' ? opts.rateLimit : undefined,
          retentionDays: opts.retentionDays,
          trustProxy: opts.trustProxy,
          workers: opts.workers,
          maxBatch: opts.maxBatch,
          modelName: opts.modelName,
          feedbackWaitMs: opts.feedbackWaitMs,
          feedbackReplayWindowMs: opts.replayWindowS * 1000,
          modelFrom: opts.modelFrom,
          modelPollMs: opts.modelPollS === undefined ? undefined : Math.max(100, Math.round(opts.modelPollS * 1000)),
          log: cliLog,
        });
        const model = srv.holder.current;
        process.stdout.write(
          `areyouacat serving on ${srv.url} (model ${model ? `v${model.version}` : 'none yet'}); Ctrl-C stops\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            process.stdout.write(`${signal}: stopping (queued feedback stays on disk)\n`);
            srv.close().then(resolve, resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      }),
    );

  const feedback = program.command('feedback').description('Feedback photos and answers collected by the server');
  feedback
    .command('purge')
    .description('Delete feedback (photos, records, queued items, monitoring logs) older than the retention period')
    .option('--older-than <days>', 'age in days (default AREYOUACAT_FEEDBACK_RETENTION_DAYS or 90)', positiveNumber('--older-than'))
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { olderThan?: number; json?: boolean }) => {
        const storage = await openFeedbackStorage(cliLog);
        try {
          const result = await purgeExpired({
            store: storage.store,
            bucket: storage.bucket,
            prefix: DEFAULT_FEEDBACK_PREFIX,
            olderThanDays: opts.olderThan ?? retentionDaysFromEnv(),
            queue: new FeedbackQueue(paths.feedbackQueue()),
            monitoringDir: paths.monitoring(),
          });
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(result)}\n`
              : `deleted feedback received before ${result.cutoffDay}: ${result.deletedObjects} S3 objects, ` +
                  `${result.deletedQueued} queued items, ${result.deletedLogs} monitoring logs\n`,
          );
        } finally {
          storage.store.close();
          await storage.localS3?.stop();
        }
      }),
    );
}
