/**
 * Data layer benchmark on cats-v1 (or AREYOUACAT_CATS_V1): manifest + split + prepare at 64x64, cold (empty cache
 * in a temp AREYOUACAT_HOME) and warm (second run, cache hit), load from cache, and decode+resize throughput.
 * Prints one JSON object. The machine's cores are shared, so numbers are noisy: compare the ratios.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
  if (!fs.existsSync(dataDir)) {
    console.log(JSON.stringify({ skipped: `cats-v1 not found at ${dataDir} (set AREYOUACAT_CATS_V1)` }));
    return;
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'areyouacat-bench-data-'));
  process.env.AREYOUACAT_HOME = home;
  // Imported after AREYOUACAT_HOME is set (paths read it on each call, but keep the order obvious).
  const { ingestDataset, loadPreparedDataset, FolderSource, prepareImage, mapLimit, packFile } = await import('../src/data/index.js');
  const size = Number(process.env.BENCH_SIZE ?? 64);
  try {
    const source = new FolderSource(dataDir);
    const c0 = performance.now();
    const cold = await ingestDataset({ source, name: 'bench', size });
    const coldMs = performance.now() - c0;
    const w0 = performance.now();
    const warm = await ingestDataset({ source, name: 'bench', size });
    const warmMs = performance.now() - w0;
    const l0 = performance.now();
    const loaded = await loadPreparedDataset('bench');
    const loadMs = performance.now() - l0;
    // Baseline for the load: reading the pack file's bytes and nothing else.
    const r0 = performance.now();
    const packBytes = fs.readFileSync(packFile(warm.summary.cache.packKey)).length;
    const rawReadMs = performance.now() - r0;

    // Decode + crop + resize alone (no hashing, no cache), same concurrency as ingest.
    const items = (await source.list()).filter((_, i) => i % 4 === 0); // 1,500 across all groups
    const bufs = await Promise.all(items.map((it) => source.read(it)));
    const d0 = performance.now();
    let failed = 0;
    await mapLimit(bufs, 4, async (b) => prepareImage(b, size).catch(() => failed++));
    const decodeMs = performance.now() - d0;

    console.log(JSON.stringify({
      bench: 'data-prepare', dataset: 'cats-v1', size, cpus: os.cpus().length, note: 'cores shared with other work: noisy',
      files: cold.summary.files, accepted: cold.summary.accepted, selected: cold.summary.selected,
      splits: Object.fromEntries(Object.entries(cold.summary.splits).map(([s, g]) => [s, Object.values(g).reduce((a, b) => a + b, 0)])),
      duplicates: cold.summary.duplicates,
      coldMs: Math.round(coldMs), coldPhasesMs: cold.summary.timingsMs, coldCacheHit: cold.summary.cache.preparedHit,
      warmMs: Math.round(warmMs), warmPhasesMs: warm.summary.timingsMs, warmCacheHit: warm.summary.cache.preparedHit,
      warmManifestReused: warm.summary.cache.manifestReused,
      coldOverWarm: Number((coldMs / warmMs).toFixed(2)),
      loadFromCacheMs: Math.round(loadMs), loadedImages: loaded.train.n + loaded.val.n + loaded.test.n,
      packMiB: Number((packBytes / 2 ** 20).toFixed(1)), packRawReadMs: Math.round(rawReadMs), loadOverRawRead: Number((loadMs / rawReadMs).toFixed(2)),
      decodeResize: { images: bufs.length, failed, ms: Math.round(decodeMs), imagesPerSec: Math.round(bufs.length / (decodeMs / 1000)) },
      coldImagesPerSec: Math.round(cold.summary.files / (coldMs / 1000)),
    }));
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
