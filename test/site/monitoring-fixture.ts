import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import seedrandom from 'seedrandom';
import { buildMonitoringReport } from '../../src/monitoring/report.js';
import { JsonlAppender } from '../../src/monitoring/event-log.js';
import { measureProperties } from '../../src/monitoring/measure.js';
import type { MonitoringReport, PredictionLogEntry } from '../../src/monitoring/types.js';
import type { FeedbackRecord } from '../../src/feedback/types.js';
import { paths } from '../../src/storage/paths.js';
import { drawPhoto } from './fixture.js';

/**
 * Monitoring data for the promoted model (version 1), written where the server writes it, and the report built by
 * the real monitor: incoming photos much larger and brighter than the training photos (property drift), nearly every
 * prediction "cat" (prediction shift), and feedback saying most of those were wrong (precision below its floor).
 */
export async function writeMonitoringFixture(now = new Date()): Promise<MonitoringReport> {
  const rng = seedrandom('site-monitoring');
  const dir = paths.monitoring();
  const log = new JsonlAppender(dir, 60_000);
  for (let i = 0; i < 24; i++) {
    const time = new Date(now.getTime() - (i % 3) * 86_400_000 - i * 1000).toISOString();
    const w = 200 + Math.floor(rng() * 60), h = 150 + Math.floor(rng() * 40);
    const raw = drawPhoto(i % 2 ? 'misc' : 'selfie', w, h, rng).map((v) => Math.min(255, v + 60));
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
    const probability = 0.9 + rng() * 0.09;
    const entry: PredictionLogEntry = {
      time, version: 1, probability, decision: 'cat', latencyMs: 5 + rng() * 20,
      properties: (await measureProperties(jpeg)) ?? undefined,
    };
    log.append('predictions', entry);
    if (i < 12) {
      const answer = i < 9 ? 'not-cat' : 'cat';
      const record: FeedbackRecord = {
        schema: 1, id: `fixture-${i}`, time,
        prediction: { decision: 'cat', probability, modelVersion: 1 },
        answer, servedVersion: 1, consent: true,
        photoKey: `feedback/photos/${time.slice(0, 10)}/fixture-${i}.jpg`,
        recordKey: `feedback/records/${time.slice(0, 10)}/fixture-${i}.json`,
        image: { format: 'jpeg', bytes: jpeg.length, width: w, height: h, properties: entry.properties ?? null },
      };
      log.append('feedback', record);
    }
  }
  await log.close();
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const { report } = await buildMonitoringReport({
    now, maxReferenceImages: 60, thresholds: { minSamples: 20, minFeedback: 10 },
  });
  return report;
}
