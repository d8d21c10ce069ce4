import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { useTempHome } from './helpers/server-fixture.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

/**
 * Memory amplification: a tiny PNG that claims 6000x6000 pixels costs about 120 MB to decode at full size. 50 of
 * them at once must keep the server's resident memory within RSS_GROWTH_LIMIT of what it used before the load
 * (the README states the same limit). The limit is checked on the kernel's peak (VmHWM), sampled from
 * /proc/<pid>/status, so a short spike between samples counts too.
 */
const RSS_GROWTH_LIMIT = 300 * 1024 * 1024;
const REQUESTS = 50;

let home: Awaited<ReturnType<typeof useTempHome>>;
let srv: ServerProcess;
let png: Buffer;

beforeAll(async () => {
  home = await useTempHome('decodemem');
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 2 }));
  // 1-bit palette: 4.5 KB on disk, 36 Mpx decoded.
  png = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#808080' } })
    .png({ palette: true, colours: 2, compressionLevel: 9 })
    .toBuffer();
  // Accepts 36 Mpx (the old default limit of 40 Mpx), so every request really decodes.
  srv = await startServerProcess({ rateLimit: null, maxPixels: 40_000_000, monitorInputs: false }, { ...process.env, AREYOUACAT_HOME: home.home });
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await home?.restore();
});

describe('decode memory under load', () => {
  it(`${REQUESTS} concurrent 6000x6000 PNGs (${4.5} KB each) keep RSS growth under ${RSS_GROWTH_LIMIT / 2 ** 20} MB`, async () => {
    expect(png.length).toBeLessThan(10_000);
    // Warm up (first decode and first forward pass allocate once), then take the baseline.
    const warm = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
    expect(warm.status).toBe(200);
    const before = srv.memory().rss;
    let sampledMax = before;
    const sampler = setInterval(() => {
      sampledMax = Math.max(sampledMax, srv.memory().rss);
    }, 20);
    const statuses = await Promise.all(
      Array.from({ length: REQUESTS }, async () => {
        const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    clearInterval(sampler);
    const peak = Math.max(srv.memory().peak, sampledMax);
    const growthMb = Math.round((peak - before) / 2 ** 20);
    console.log(`decode memory: RSS before ${Math.round(before / 2 ** 20)} MB, peak ${Math.round(peak / 2 ** 20)} MB, growth ${growthMb} MB`);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(peak - before).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 180_000);

  it('the default serving limit refuses it before decoding (413)', async () => {
    const other = await startServerProcess({ rateLimit: null, monitorInputs: false }, { ...process.env, AREYOUACAT_HOME: home.home });
    try {
      const res = await fetch(`${other.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('image_too_large');
    } finally {
      await other.stop();
    }
  }, 120_000);
});
