import { requestBudget, type RequestBudget } from './request-budget.js';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { paths, projectRoot } from '../storage/paths.js';
import { writeJsonAtomic } from '../storage/atomic.js';
import type { S3Store } from '../storage/s3-client.js';
import type { LocalS3 } from '../storage/local-s3.js';
import { openFeedbackStorage, retentionDaysFromEnv } from '../feedback/storage.js';
import { JsonlAppender } from '../monitoring/event-log.js';
import { METRICS_SNAPSHOT_FILE, samplesFromSnapshot, servingCounts } from '../monitoring/serving-stats.js';
import { loadServingHistory, saveServingHistory, SERVING_HISTORY_FILE } from '../monitoring/serving-history.js';
import type { PromotedModel } from '../registry/types.js';
import { readPromoted } from '../registry/registry.js';
import { openModelsLocation, RemotePromotedReader, type ModelsLocation } from '../registry/remote.js';
import { createRequestHandler, type AppContext } from './app.js';
import { createStaticSiteHandler } from './static-site.js';
import { ModelHolder, type ModelLoader } from './model-holder.js';
import { TokenBucketLimiter, type RateLimitOptions } from './rate-limit.js';
import { clientAddressResolver, parseTrustProxy } from './client-address.js';
import { Semaphore } from '../data/concurrency.js';
import { createServerMetrics, LATENCY_BUCKETS, type ServerMetrics } from './server-instruments.js';
import { FeedbackQueue } from '../feedback/queue.js';
import { FeedbackUploader } from '../feedback/uploader.js';
import { FeedbackReplays } from '../feedback/replays.js';
import { seedReplaysFromQueue, seedReplaysFromS3 } from '../feedback/replay-seed.js';
import type { FeedbackResult } from './feedback-route.js';
import { purgeExpired } from './retention.js';
import { PredictionMonitor } from './prediction-monitor.js';
import { DEFAULT_FEEDBACK_PREFIX } from '../feedback/types.js';
import { feedbackClientSalt } from '../feedback/client-salt.js';
import { loadTfjsServingModel } from './tfjs-model.js';
import type { Log } from '../progress/index.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Folder of the built report site, mounted at `/`; null serves no site. Default `<project>/dist/reports`. */
  siteRoot?: string | null;
  /** Largest accepted upload in bytes (default 10 MiB). */
  maxUploadBytes?: number;
  /**
   * Largest accepted image in pixels, checked from the header before decoding. Default AREYOUACAT_SERVE_MAX_PIXELS
   * or 16 million (ingest accepts 40 million; serving needs no more than a phone photo).
   */
  maxPixels?: number;
  /** Image decodes running at once (default 2: the decode memory is then bounded whatever the number of clients). */
  maxConcurrentDecodes?: number;
  /** Per-client token bucket on the POST API routes; null disables it. Default 30 at once, 10 per second. */
  rateLimit?: RateLimitOptions | null;
  /**
   * Proxies trusted to report the client in X-Forwarded-For: true (one proxy), a number of proxy hops, or the
   * proxies' addresses/CIDRs. The client is the nearest hop they did not add. Default: none (the socket's peer).
   */
  trustProxy?: boolean | number | string | readonly string[];
  /** Where feedback goes. Default: AREYOUACAT_S3_* when an endpoint is set, else a local S3 started in-process. */
  s3?: { store: S3Store; bucket: string };
  feedbackPrefix?: string;
  /** Feedback older than this is purged (a minute after start, then daily). Default AREYOUACAT_FEEDBACK_RETENTION_DAYS or 90. */
  retentionDays?: number;
  /**
   * A replica: the promoted model comes from the models published at this S3 URL (`s3://bucket/prefix`, with the
   * AREYOUACAT_S3_* endpoint and keys), downloaded and verified into the data folder's cache, polled every
   * `modelPollMs` (default 3 s) instead of the local registry.
   */
  modelFrom?: string;
  /** Registry poll interval for promotions (fs.watch is tried too); default 2 s, 3 s with modelFrom. */
  modelPollMs?: number;
  /** First retry delay after a promoted version failed to load (doubles up to 60 s; default 2 s). */
  modelRetryMs?: number;
  readPromoted?: () => Promise<PromotedModel | null>;
  loadModel?: ModelLoader;
  /** How often the metrics snapshot for monitoring is written (ms; 0 = only at close). */
  snapshotMs?: number;
  /**
   * How often the minute-by-minute history of the serving counters (GET /api/monitoring) is saved to the monitoring
   * folder, so that a restart keeps it (ms; default 5 min; 0 = only at close). It is read back at start.
   */
  historySaveMs?: number;
  /** First retry delay of feedback uploads after an S3 failure (doubles up to 60 s). */
  uploadRetryMs?: number;
  /** Longest a feedback request waits for its upload to S3 before answering 202 (queued on disk); default 2000 ms. */
  feedbackWaitMs?: number;
  /** A replay of the same feedback (photo, answer, prediction) within this window is not stored again; default 10 min. */
  feedbackReplayWindowMs?: number;
  /** Measure image properties of prediction inputs for drift monitoring (default true). */
  monitorInputs?: boolean;
  /** At most this many inputs per second are measured (a sample; default 5); every prediction is logged. */
  monitorSamplesPerSecond?: number;
  /** Inference worker threads (default AREYOUACAT_SERVE_WORKERS, else one per core; 0 = on the main thread). */
  workers?: number;
  /** Largest forward-pass batch, and the largest N of an Open Inference Protocol request (default 32). */
  maxBatch?: number;
  /** Largest JSON body of an Open Inference Protocol inference request (default 4x maxUploadBytes). */
  maxInferBodyBytes?: number;
  /** What one Open Inference Protocol request may cost (default: AREYOUACAT_SERVE_MAX_REQUEST_PIXELS / _ELEMENTS, else 64 Mpx / 6,291,456). */
  requestBudget?: Partial<RequestBudget>;
  /** The model's name on the Open Inference Protocol routes (/v2/models/NAME; default "areyouacat"). */
  modelName?: string;
  log?: Log;
}

/** The default serving pixel limit: 16 million. */
export const DEFAULT_SERVE_MAX_PIXELS = 16_000_000;

/** AREYOUACAT_SERVE_MAX_PIXELS, or the default; a value that is not a whole number >= 1 is an error. */
export function servePixelLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AREYOUACAT_SERVE_MAX_PIXELS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SERVE_MAX_PIXELS;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new Error(`AREYOUACAT_SERVE_MAX_PIXELS must be a whole number >= 1 (got "${raw}")`);
  return Number(raw);
}

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  holder: ModelHolder;
  metrics: ServerMetrics;
  uploader: FeedbackUploader;
  queue: FeedbackQueue;
  /** Settles when the replay memory holds the feedback of the window read back from S3 (after a restart). */
  replaysSeeded: Promise<void>;
  /** The local S3 server process when the server started one (no endpoint configured). */
  localS3: LocalS3 | null;
  s3: { store: S3Store; bucket: string };
  /** Write the metrics snapshot now. */
  writeSnapshot(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start the serving process: one node:http server with the prediction and feedback API, health, Prometheus metrics
 * and the built site; the promoted model hot-swapped on promotion; feedback queued durably and uploaded to S3.
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const log: Log = options.log ?? ((m, fields) => process.stderr.write(fields ? `${m} ${JSON.stringify(fields)}\n` : `${m}\n`));
  // First, before anything is started: these may refuse a setting.
  const clientAddress = clientAddressResolver(parseTrustProxy(options.trustProxy));
  const maxPixels = options.maxPixels ?? servePixelLimitFromEnv();
  let models: ModelsLocation | null = null;
  let remote: RemotePromotedReader | null = null;
  if (options.modelFrom) {
    // Bounded: a stalled S3 fails a read within seconds, and the reader backs off while it lasts.
    models = openModelsLocation(options.modelFrom, { connectTimeoutMs: 2000, requestTimeoutMs: 15_000, maxAttempts: 2 });
    remote = new RemotePromotedReader(models, { cacheDir: paths.remoteModels() });
    log(`models from ${models.url} (polled every ${(options.modelPollMs ?? 3000) / 1000} s)`);
  }
  const metrics = createServerMetrics();
  metrics.modelVersion.set(0);
  let localS3: LocalS3 | null = null;
  let s3 = options.s3;
  if (!s3) {
    const opened = await openFeedbackStorage(log);
    s3 = { store: opened.store, bucket: opened.bucket };
    localS3 = opened.localS3;
  }
  const feedbackS3 = s3;
  // A store given by the caller stays the caller's to close.
  const closeStore = () => {
    if (!options.s3) feedbackS3.store.close();
  };

  const queue = new FeedbackQueue(paths.feedbackQueue());
  const uploader = new FeedbackUploader({
    queue,
    store: s3.store,
    bucket: s3.bucket,
    baseDelayMs: options.uploadRetryMs ?? 1000,
    waitMs: options.feedbackWaitMs,
    onDepth: (n) => metrics.feedbackQueue.set(n),
    onFailure: (err) => {
      metrics.feedbackUploadFailures.inc();
      log(`feedback upload failed (kept in the local queue, will retry): ${err.message}`);
    },
  });
  metrics.feedbackQueue.set(await queue.depth());
  const replays = new FeedbackReplays<FeedbackResult>({ windowMs: options.feedbackReplayWindowMs });
  const feedbackPrefix = options.feedbackPrefix ?? DEFAULT_FEEDBACK_PREFIX;
  const seedSource = { queue, store: s3.store, bucket: s3.bucket, prefix: feedbackPrefix };
  await seedReplaysFromQueue(replays, seedSource).catch((e: Error) => log(`feedback replays: cannot read the queue: ${e.message}`));
  const decodes = new Semaphore(options.maxConcurrentDecodes ?? 2);
  const clientSalt = await feedbackClientSalt(paths.feedbackSalt());

  const holder = new ModelHolder({
    readPromoted: options.readPromoted ?? remote?.read ?? (() => readPromoted()),
    load:
      options.loadModel ??
      ((p) =>
        loadTfjsServingModel(p, {
          workers: options.workers,
          maxBatch: options.maxBatch,
          log,
          onBatch: (n, ms) => {
            metrics.inference.observe(ms / 1000);
            metrics.batchSize.observe(n);
          },
        })),
    watchDir: remote ? undefined : paths.registry(),
    pollMs: options.modelPollMs ?? (remote ? 3000 : 2000),
    onSwap: (from, to) => {
      metrics.modelVersion.set(to.version);
      metrics.modelInfo.reset();
      metrics.modelInfo.set(1, { version: String(to.version), image_size: String(to.imageSize) });
      if (from) metrics.modelSwaps.inc();
      log(from ? `model swapped: v${from.version} -> v${to.version}` : `serving model v${to.version}`);
    },
    onLoadError: (version, err, retry) => {
      metrics.modelLoadFailures.inc();
      const serving = holder.current;
      const keeping = serving ? `keeping v${serving.version}` : 'no model is being served: /api/predict answers 503';
      const what = version >= 0 ? `cannot load promoted model v${version}` : 'cannot read the promoted model pointer';
      const again = version >= 0 ? `retrying in ${Math.round(retry.retryInMs / 1000)} s` : 'read again when it changes';
      log(`${what} (${keeping}; ${again}): ${err.message}`);
    },
    retryMs: options.modelRetryMs,
  });

  const monitoringDir = paths.monitoring();
  const eventLog = new JsonlAppender(monitoringDir);
  const historyFile = path.join(monitoringDir, SERVING_HISTORY_FILE);
  const loadedHistory = await loadServingHistory(historyFile, { latencyBounds: LATENCY_BUCKETS });
  if (loadedHistory.problem) log(`serving history: ${loadedHistory.problem}; starting a fresh one`, { level: 'warn' });
  const history = loadedHistory.history;
  const readCounters = () => history.record(servingCounts(samplesFromSnapshot(metrics.registry.snapshot())));
  const siteRoot = options.siteRoot === undefined ? path.join(projectRoot(), 'dist', 'reports') : options.siteRoot;
  const ctx: AppContext = {
    holder,
    metrics,
    feedback: { queue, uploader, prefix: feedbackPrefix, maxPixels, decodes, replays, clientSalt, log: eventLog },
    limiter:
      options.rateLimit === null ? null : new TokenBucketLimiter(options.rateLimit ?? { burst: 30, perSecond: 10 }),
    site: siteRoot ? createStaticSiteHandler({ root: siteRoot }) : null,
    monitor:
      options.monitorInputs === false
        ? null
        : new PredictionMonitor(eventLog, { perSecond: options.monitorSamplesPerSecond ?? 5 }, () => metrics.monitoringSkipped.inc()),
    maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
    maxPixels,
    decodes,
    clientAddress,
    startedAt: Date.now(),
    log,
    modelName: options.modelName ?? 'areyouacat',
    maxBatch: options.maxBatch ?? 32,
    maxInferBodyBytes: options.maxInferBodyBytes ?? 4 * (options.maxUploadBytes ?? 10 * 1024 * 1024),
    requestBudget: requestBudget(options.requestBudget),
    modelSource: remote ? () => remote.status() : undefined,
    servingHistory: () => {
      readCounters();
      return history.view();
    },
  };

  await holder.start();
  if (!holder.current && !holder.loadError) log('no model is promoted yet: /api/predict answers 503 until one is');
  void uploader.drain();
  const replaysSeeded = seedReplaysFromS3(replays, seedSource).then(
    () => undefined,
    (e: Error) => log(`feedback replays: cannot read recent feedback from S3 (replays of it are stored again): ${e.message}`),
  );

  const server = http.createServer(createRequestHandler(ctx));
  server.requestTimeout = 60_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  const port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await holder.close();
    await uploader.close();
    closeStore();
    models?.store.close();
    await localS3?.stop();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use: pick another with --port` : `cannot listen on ${host}:${port}: ${(err as Error).message}`,
    );
  }
  const addr = server.address() as AddressInfo;
  const shownHost = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;

  const writeSnapshot = async () => {
    await writeJsonAtomic(path.join(monitoringDir, METRICS_SNAPSHOT_FILE), {
      time: new Date().toISOString(),
      startedAt: new Date(ctx.startedAt).toISOString(),
      url,
      pid: process.pid,
      metrics: metrics.registry.snapshot(),
    });
  };
  const timers: NodeJS.Timeout[] = [];
  const snapshotMs = options.snapshotMs ?? 10_000;
  if (snapshotMs > 0) {
    timers.push(setInterval(() => void writeSnapshot().catch((e: Error) => log(`metrics snapshot: ${e.message}`)), snapshotMs));
  }
  // The counters are read every 10 s into the minute they fall in (and at every GET /api/monitoring).
  timers.push(setInterval(readCounters, 10_000));
  const saveHistory = () => saveServingHistory(historyFile, history).catch((e: Error) => log(`serving history: cannot save ${historyFile}: ${e.message}`, { level: 'warn' }));
  const historySaveMs = options.historySaveMs ?? 300_000;
  if (historySaveMs > 0) {
    timers.push(
      setInterval(() => {
        readCounters();
        void saveHistory();
      }, historySaveMs),
    );
  }
  const retentionDays = options.retentionDays ?? retentionDaysFromEnv();
  const purge = () =>
    purgeExpired({ store: feedbackS3.store, bucket: feedbackS3.bucket, prefix: ctx.feedback.prefix, olderThanDays: retentionDays, queue, monitoringDir })
      .then((r) => {
        if (r.deletedObjects + r.deletedQueued + r.deletedLogs > 0) {
          log(`retention (${retentionDays} days): deleted ${r.deletedObjects} objects, ${r.deletedQueued} queued items, ${r.deletedLogs} logs`);
        }
      })
      .catch((e: Error) => log(`retention purge skipped: ${e.message}`));
  timers.push(setTimeout(() => void purge(), 60_000));
  timers.push(setInterval(() => void purge(), 86_400_000));
  for (const t of timers) t.unref();

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      for (const t of timers) clearInterval(t);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await holder.close();
      await uploader.close();
      await eventLog.close().catch(() => undefined);
      await writeSnapshot().catch(() => undefined);
      readCounters();
      await saveHistory();
      closeStore();
      models?.store.close();
      await localS3?.stop();
    })();
    return closing;
  };

  return { url, port: addr.port, server, holder, metrics, uploader, queue, replaysSeeded, localS3, s3: feedbackS3, writeSnapshot, close };
}
