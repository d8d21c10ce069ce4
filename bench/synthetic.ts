/**
 * Synthetic data set rendering speed on one core. Prints one JSON object.
 * Baseline in the same run: encoding an already-rendered raw image of the same size (the floor any renderer pays).
 * The machine's cores may be shared: numbers are noisy; compare the ratio, not absolute times.
 */
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { SyntheticSource } from '../src/data/sources/synthetic.js';
import { syntheticSvg } from '../src/data/synthetic/render.js';

sharp.concurrency(1);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const n = Number(process.env.BENCH_N ?? 400);
const source = new SyntheticSource({ seed: 11, n });
const items = await source.list();

let t = performance.now();
let svgChars = 0;
for (let i = 0; i < n; i++) svgChars += syntheticSvg('cat', seedrandom(`b${i}`), 128, 128).length;
const svgMs = performance.now() - t;

await source.read(items[0]); // warm up (noise table, libvips)
t = performance.now();
let c = cpuMs();
let bytes = 0;
for (const it of items) bytes += (await source.read(it)).length;
const renderMs = performance.now() - t;
const renderCpuMs = cpuMs() - c;

const raw = Buffer.alloc(128 * 128 * 3, 120);
t = performance.now();
c = cpuMs();
for (let i = 0; i < n; i++) await sharp(raw, { raw: { width: 128, height: 128, channels: 3 } }).png().toBuffer();
const encodeMs = performance.now() - t;
const encodeCpuMs = cpuMs() - c;

console.log(JSON.stringify({
  images: n,
  imagesPerSecond: Math.round((n / renderMs) * 1000),
  imagesPerCpuSecond: Math.round((n / renderCpuMs) * 1000),
  msPerImage: +(renderMs / n).toFixed(2),
  cpuMsPerImage: +(renderCpuMs / n).toFixed(2),
  svgBuildMsPerImage: +(svgMs / n).toFixed(3),
  meanSvgChars: Math.round(svgChars / n),
  meanFileBytes: Math.round(bytes / n),
  baselineEncodeMsPerImage: +(encodeMs / n).toFixed(2),
  baselineEncodeCpuMsPerImage: +(encodeCpuMs / n).toFixed(2),
  renderToBaselineRatio: +(renderMs / encodeMs).toFixed(1),
  renderToBaselineCpuRatio: +(renderCpuMs / encodeCpuMs).toFixed(1),
  note: 'one libvips thread; sizes 96-160 px; shared cores make absolute numbers noisy',
}));
