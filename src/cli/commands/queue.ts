import { Command } from 'commander';
import { checkRedisReachable, DEFAULT_QUEUE_NAME } from '../../jobs/queue-connection.js';
import { checkConfiguredStores } from '../../storage/store-check.js';
import { queueUrlFrom } from '../../jobs/open-executor.js';
import { queueStatus } from '../../jobs/queue-status.js';
import { startQueueWorker } from '../../jobs/queue-worker.js';
import { PIPELINE_JOB_HANDLERS } from '../../pipelines/job-kinds.js';
import { action } from '../program.js';
import { cliLog } from '../log.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};

function requireUrl(flag: string | undefined): string {
  const url = queueUrlFrom(flag);
  if (!url) throw new Error('no queue given: pass --queue redis://HOST:6379 or set AREYOUACAT_QUEUE_URL');
  return url;
}

const logLine = cliLog;

export function registerQueueCommands(program: Command): void {
  program
    .command('worker')
    .description('Compute pipeline jobs (backbone-feature shards, tuning trials, prediction shards) from a BullMQ queue on Redis; run one per core on any number of machines')
    .option('--queue <url>', 'the queue: redis://HOST:6379 (default: AREYOUACAT_QUEUE_URL)')
    .option('--queue-name <name>', 'queue name inside Redis', DEFAULT_QUEUE_NAME)
    .option('--concurrency <n>', 'jobs computed at once by this process', int('concurrency', 1), 1)
    .option('--lock-duration <ms>', 'job lock: a killed worker\'s jobs go to another worker this long after its last renewal', int('lock-duration', 500), 30_000)
    .action(
      action(async (f: { queue?: string; queueName: string; concurrency: number; lockDuration: number }) => {
        const url = requireUrl(f.queue);
        await checkConfiguredStores({ queueUrl: url, checkRedis: (u) => checkRedisReachable(u) });
        const worker = await startQueueWorker({ url, queueName: f.queueName, concurrency: f.concurrency, lockDurationMs: f.lockDuration, handlers: PIPELINE_JOB_HANDLERS, log: logLine });
        await new Promise<void>((resolve) => {
          const stop = () => {
            logLine(`worker ${worker.name}: finishing the jobs in hand, then stopping`);
            void worker.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );

  const queue = program.command('queue').description('The job queue shared by coordinators and workers');
  queue
    .command('status')
    .description('Waiting, active, failed and completed jobs, and the workers seen in the last minute')
    .option('--queue <url>', 'the queue: redis://HOST:6379 (default: AREYOUACAT_QUEUE_URL)')
    .option('--queue-name <name>', 'queue name inside Redis', DEFAULT_QUEUE_NAME)
    .option('--json', 'print JSON')
    .action(
      action(async (f: { queue?: string; queueName: string; json?: boolean }) => {
        const s = await queueStatus(requireUrl(f.queue), f.queueName);
        if (f.json) {
          process.stdout.write(JSON.stringify(s, null, 2) + '\n');
          return;
        }
        const c = s.counts;
        process.stdout.write(`${s.url} queue ${s.queue}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.failed} failed, ${c.completed} completed\n`);
        process.stdout.write(`workers seen in the last minute: ${s.workers.length} (${s.connectedWorkers} connected now)\n`);
        for (const w of s.workers) {
          process.stdout.write(`  ${w.name}  code ${w.codeVersion}  concurrency ${w.concurrency}  ${w.completed} done, ${w.failed} failed  last seen ${w.seenAt}\n`);
        }
        for (const x of s.recentFailures) process.stdout.write(`failed ${x.id}: ${x.reason}\n`);
      }),
    );
}
