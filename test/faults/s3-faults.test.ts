import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyMode } from '../serve/helpers/tcp-proxy.js';
import { LIMITS_MS, startFaultRig, waitFor, type FaultRig, type RouteName } from './harness.js';

/**
 * The server while its S3 misbehaves: every request answers within its route's limit (LIMITS_MS), whatever the
 * fault. Each fault gets a fresh server, so the first feedback request meets the fault itself (not an uploader
 * that is already backing off after an earlier one).
 */
const ROUTES: RouteName[] = ['feedback', 'health', 'metrics', 'predict'];
const FAULTS: ProxyMode[] = ['stall', 'drop', 'slow'];

describe.each(FAULTS)('S3 %s', (mode) => {
  let rig: FaultRig;

  beforeAll(async () => {
    rig = await startFaultRig(mode);
    rig.proxy.slowDelayMs = 400;
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  });

  it('with S3 healthy, feedback is stored at once', async () => {
    const t = await rig.request('feedback');
    expect(t.status).toBe(201);
  }, 60_000);

  it('every route answers within its limit, one by one and in a burst', async () => {
    rig.setMode(mode);
    // Feedback first: it is the route that waits for S3.
    for (const route of ROUTES) {
      const t = await rig.request(route);
      expect(t.ms, `${route} took ${t.ms} ms with S3 ${mode} (limit ${LIMITS_MS[route]} ms)`).toBeLessThanOrEqual(LIMITS_MS[route]);
      expect(t.status, `${route} with S3 ${mode}`).toBeLessThan(500);
    }
    const burst = await Promise.all([...ROUTES, 'feedback', 'health', 'feedback', 'health'].map((r) => rig.request(r as RouteName)));
    for (const t of burst) expect(t.ms, `${t.route} in a burst with S3 ${mode}`).toBeLessThanOrEqual(LIMITS_MS[t.route]);
  }, 120_000);

  it('no request of the run went over its limit, and feedback was accepted (stored or queued)', () => {
    expect(rig.overLimit()).toEqual([]);
    const feedback = rig.timings.filter((t) => t.route === 'feedback' && t.mode === mode);
    expect(feedback.length).toBe(4);
    for (const t of feedback) expect([201, 202]).toContain(t.status);
  });

  // Seen failing before the uploader's drain listed the queue again: items that arrived while a retry drain ran
  // (their requests skip the upload while S3 is unavailable) stayed on disk until a restart (3 of 5).
  it('feedback accepted during the fault reaches S3 once it ends', async () => {
    rig.setMode('forward');
    await waitFor(
      'every accepted feedback item in S3 and the local queue empty',
      async () => ((await rig.missingFeedback()).length === 0 && (await rig.server.queue.depth()) === 0 ? true : undefined),
      90_000,
    );
  }, 120_000);
});
