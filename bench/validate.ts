/**
 * Validation of cats-v1 after ingest/preparation is cached: cold (empty property cache) and warm (every property
 * cached), against a baseline measured in the same run -- one bare decode-and-shrink pass over the same files with
 * sharp, the least any property measurement has to do. Prints one JSON object.
 *
 *   npx tsx bench/validate.ts            (data: ../shared/datasets/cats-v1 or $AREYOUACAT_CATS_V1)
 *
 * The machine's cores may be shared: repeat and compare ratios rather than absolute times.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mapLimit } from '../src/data/concurrency.js';
import { ingestDataset } from '../src/data/ingest.js';
import { openSource } from '../src/data/sources/index.js';
import { validateDataset } from '../src/validation/validate.js';
import { saveValidationReport } from '../src/validation/report.js';

async function main() {
  const dataDir = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
  if (!fs.existsSync(path.join(dataDir, 'manifest.csv'))) {
    throw new Error(`cats-v1 not found at ${dataDir}: set AREYOUACAT_CATS_V1`);
  }
  const source = await openSource(dataDir);
  let t = performance.now();
  const ingested = await ingestDataset({ source, name: 'cats-v1' });
  const ingestMs = performance.now() - t;
  const readImage = (e: { path: string; group: string; source: string }) => source.read(e);
  const accepted = ingested.manifest.filter((e) => e.status === 'ok');

  t = performance.now();
  await mapLimit(accepted, 4, async (e) => sharp(await readImage(e)).resize(64, 64, { fit: 'inside' }).raw().toBuffer());
  const decodeBaselineMs = performance.now() - t;

  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'validate-bench-'));
  const run = async () => {
    const t0 = performance.now();
    const report = await validateDataset({ dataset: 'cats-v1', entries: ingested.manifest, readImage, prepared: ingested.prepared, cacheDir });
    return { report, ms: performance.now() - t0 };
  };
  try {
    const cold = await run();
    const warm = await run();
    const file = await saveValidationReport(warm.report);
    const round = (x: number) => Math.round(x);
    console.log(JSON.stringify({
      images: accepted.length,
      cores: os.availableParallelism(),
      ingestMs: round(ingestMs),
      preparedCacheHit: ingested.summary.cache.preparedHit,
      decodeBaselineMs: round(decodeBaselineMs),
      coldMs: round(cold.ms),
      warmMs: round(warm.ms),
      coldOverBaseline: Number((cold.ms / decodeBaselineMs).toFixed(2)),
      warmOverBaseline: Number((warm.ms / decodeBaselineMs).toFixed(2)),
      warmOverCold: Number((warm.ms / cold.ms).toFixed(3)),
      coldStages: cold.report.timings,
      warmStages: warm.report.timings,
      summary: warm.report.summary,
      checks: Object.fromEntries(warm.report.checks.map((c) => [c.id, c.status])),
      reportBytes: fs.statSync(file).size,
      note: 'two shared cores: timings are noisy',
    }));
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
