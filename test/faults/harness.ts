import { startServer, type RunningServer } from '../../src/serve/server.js';
import { S3Store, type S3ClientOptions } from '../../src/storage/s3-client.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { TcpProxy, type ProxyMode } from '../serve/helpers/tcp-proxy.js';
import { makeJpeg } from '../serve/helpers/images.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { form, useTempHome } from '../serve/helpers/server-fixture.js';

/**
 * A server with a real S3 (RGW when AREYOUACAT_TEST_S3_* is set, else the embedded one) reached only through a
 * TCP proxy the test controls, so S3 can stall, drop connections or slow down while requests are measured.
 *
 * Limits: the S3 client gets short timeouts (S3_TIMEOUTS) so that a fault test takes seconds; every route has
 * the longest time it may take under any S3 fault (LIMITS_MS). Each request a test makes is recorded in `timings`
 * and every accepted feedback id in `feedbackIds`, so checks over all of them (no request over its limit, no
 * feedback lost) can be added without changing the tests that make the requests.
 */
export const S3_TIMEOUTS: Required<S3ClientOptions> = { connectTimeoutMs: 500, requestTimeoutMs: 1500, maxAttempts: 2 };

/** Longest a feedback request waits for its own upload before it answers 202 (queued on disk). */
export const FEEDBACK_WAIT_MS = 1000;

/** Longest acceptable answer per route while S3 misbehaves (ms), with room for a loaded 2-core machine. */
export const LIMITS_MS = {
  health: 1000,
  metrics: 1000,
  predict: 5000,
  // The feedback wait (the upload goes on in the background after it), plus the photo's re-encoding.
  feedback: FEEDBACK_WAIT_MS + 3000,
} as const;

export type RouteName = keyof typeof LIMITS_MS;

export interface Timing {
  route: RouteName;
  mode: ProxyMode;
  status: number;
  ms: number;
}

export interface FaultRig {
  s3: TestS3;
  proxy: TcpProxy;
  server: RunningServer;
  /** The bucket's view that bypasses the proxy (for checking what arrived). */
  direct: S3Store;
  timings: Timing[];
  feedbackIds: string[];
  logs: string[];
  photo: Buffer;
  setMode(mode: ProxyMode): void;
  request(route: RouteName): Promise<Timing>;
  /** Timings over the limit of their route. */
  overLimit(): Timing[];
  /** Feedback ids accepted by the server that are not (yet) in S3. */
  missingFeedback(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startFaultRig(tag: string): Promise<FaultRig> {
  const home = await useTempHome(`faults-${tag}`);
  const s3 = await startTestS3(`faults-${tag}`);
  const proxy = TcpProxy.forUrl(s3.endpoint);
  await proxy.start();
  const store = new S3Store(
    { endpoint: proxy.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region },
    S3_TIMEOUTS,
  );
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 4 }));
  const logs: string[] = [];
  const server = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store, bucket: s3.bucket },
    rateLimit: null,
    snapshotMs: 0,
    uploadRetryMs: 200,
    feedbackWaitMs: FEEDBACK_WAIT_MS,
    log: (m) => logs.push(m),
  });
  const photo = await makeJpeg(160, 120, 9);
  // A new photo per feedback request: the same photo with the same answer within the replay window is a replay.
  let photoSeed = 1000;
  const timings: Timing[] = [];
  const feedbackIds: string[] = [];

  const send = async (route: RouteName): Promise<Response> => {
    const url = server.url;
    switch (route) {
      case 'health':
        return fetch(`${url}/api/health`);
      case 'metrics':
        return fetch(`${url}/metrics`);
      case 'predict':
        return fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photo) });
      case 'feedback': {
        const data = await makeJpeg(160, 120, photoSeed++);
        return fetch(`${url}/api/feedback`, {
          method: 'POST',
          body: form({ photo: { data, filename: 'p.jpg', type: 'image/jpeg' }, consent: 'true', answer: 'cat', prediction: 'cat' }),
        });
      }
    }
  };

  const rig: FaultRig = {
    s3,
    proxy,
    server,
    direct: s3.store,
    timings,
    feedbackIds,
    logs,
    photo,
    setMode: (mode) => proxy.setMode(mode),
    async request(route) {
      const mode = proxy.mode;
      const t0 = performance.now();
      const res = await send(route);
      const body = await res.text();
      const timing: Timing = { route, mode, status: res.status, ms: Math.round(performance.now() - t0) };
      timings.push(timing);
      if (route === 'feedback' && (res.status === 201 || res.status === 202)) feedbackIds.push((JSON.parse(body) as { id: string }).id);
      return timing;
    },
    overLimit: () => timings.filter((t) => t.ms > LIMITS_MS[t.route]),
    async missingFeedback() {
      const keys = new Set((await s3.store.listKeys(s3.bucket)).map((o) => o.key));
      const stored = [...keys].join('\n');
      return feedbackIds.filter((id) => !stored.includes(`${id}.json`) || !stored.includes(`${id}.jpg`));
    },
    async stop() {
      await server.close();
      store.close();
      await proxy.stop();
      await s3.stop();
      await home.restore();
    },
  };
  return rig;
}

/** Poll `probe` until it returns a value, or fail after `timeoutMs` naming what was awaited. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
