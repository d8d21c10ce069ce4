/**
 * Backbone features per second on every engine, for every backbone (src/model/backbones.ts), on real cats-v1
 * photos (../shared/datasets/cats-v1, or AREYOUACAT_CATS_V1): tfjs-wasm (one thread, as tfjs runs in Node) and
 * ONNX Runtime with 1 and 2 intra-op threads (OnnxSession on the engine's own export: for imagenet-mobilenet-v1 the
 * pooled network plus the recipe's two log-odds columns as `finish` adds them, for coco-centernet the graph model's
 * recipe written by the graph-model exporter). The engines run interleaved in one
 * process (round r: tfjs, ORT 1 thread, ORT 2 threads, each one batch of BENCH_BATCH), so a load change hits them
 * alike; best and median over BENCH_ROUNDS rounds. Also each network's multiply-adds per image (counted from the
 * layer and node shapes at the bench size) and the share of this machine's FMA peak reached: peak = cores x clock x
 * 32 float32 FLOP per cycle (AVX2 with two FMA units: 2 x 8 lanes x 2), the clock from /proc/cpuinfo's "cpu MHz"
 * (or BENCH_CPU_GHZ), 1 multiply-add = 2 FLOP. Prints one JSON object, with the load average before and after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '../src/tfjs/index.js';
import { backboneArtifacts, BACKBONE_ID as CENTERNET_ID, loadBackbone } from '../src/model/backbone.js';
import { BACKBONES, type BackboneSpec } from '../src/model/backbones.js';
import { selectBackend } from '../src/model/backend.js';
import { backboneFeatureExport } from '../src/model/engine.js';
import { IMAGENET_BACKBONE_ID, IMAGENET_FEATURE_LAYER, IMAGENET_POOLED, loadImagenetNet } from '../src/model/imagenet-mobilenet.js';
import { onnxExportSupport } from '../src/model/onnx-model.js';
import { OnnxSession } from '../src/onnx/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const batch = Number(process.env.BENCH_BATCH ?? 16);
const FLOP_PER_CYCLE = 32;
const SIZES: Record<string, number> = { [IMAGENET_BACKBONE_ID]: 224, [CENTERNET_ID]: 256 };

function catsV1Dir(): string {
  return path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
}

/** `n` cats-v1 photos (cat, dog, selfie, misc in turn), centre-cropped to size x size, RGB 0..255 NHWC. */
async function photos(n: number, size: number): Promise<Float32Array> {
  const dir = catsV1Dir();
  if (!fs.existsSync(path.join(dir, 'manifest.csv'))) throw new Error(`cats-v1 is missing from ${dir} (set AREYOUACAT_CATS_V1)`);
  const groups = ['cat', 'dog', 'selfie', 'misc'];
  const lists = groups.map((g) => fs.readdirSync(path.join(dir, g)).filter((f) => f.endsWith('.jpg')).sort());
  const per = size * size * 3;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const names = lists[i % groups.length];
    const file = path.join(dir, groups[i % groups.length], names[(Math.floor(i / groups.length) * 37) % names.length]);
    const raw = await sharp(file).rotate().removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
    for (let k = 0; k < per; k++) out[i * per + k] = raw[k];
  }
  return out;
}

function cpuGhz(): { ghz: number; source: string } {
  if (process.env.BENCH_CPU_GHZ) return { ghz: Number(process.env.BENCH_CPU_GHZ), source: 'BENCH_CPU_GHZ' };
  try {
    const mhz = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('cpu MHz')).map((l) => Number(l.split(':')[1]));
    if (mhz.length && mhz.every(Number.isFinite)) return { ghz: Math.max(...mhz) / 1000, source: '/proc/cpuinfo cpu MHz (highest core)' };
  } catch {
    // not Linux
  }
  const speed = os.cpus()[0]?.speed;
  return speed ? { ghz: speed / 1000, source: 'os.cpus() speed' } : { ghz: 2.5, source: 'assumed 2.5 GHz (no clock found)' };
}

/** MobileNet's multiply-adds per image at size x size: every conv, depthwise conv and the 768 x 1000 classifier. */
async function imagenetMacs(size: number): Promise<number> {
  const net = await loadImagenetNet();
  const topology = structuredClone(net.full.toJSON(null, false)) as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  topology.config.layers.find((l) => l.class_name === 'InputLayer')!.config.batch_input_shape = [null, size, size, 3];
  const fixed = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  let macs = 0;
  for (const layer of fixed.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') continue;
    const [, h, w, c] = layer.outputShape as number[];
    // [kh, kw, cin, cout] or, depthwise, [kh, kw, cin, multiplier]
    const [kh, kw, cin, multiplier] = layer.getWeights()[0].shape as [number, number, number, number];
    macs += h * w * kh * kw * cin * (cls === 'Conv2D' ? c : multiplier);
    if (layer.name === IMAGENET_FEATURE_LAYER.replace('_relu', '')) break; // conv_pw_13: the last map the recipe pools
  }
  fixed.dispose();
  return macs + IMAGENET_POOLED * 1000; // the classifier of the recipe's log-odds (run as `finish`)
}

/** CenterNet's multiply-adds per image: every convolution node of the graph, with its output shape from a run at size x size. */
async function centernetMacs(size: number): Promise<number> {
  const graph = await loadBackbone(size, size);
  const artifacts = await backboneArtifacts(size, size);
  const convs = (artifacts.modelTopology as { node: { name: string; op: string; input: string[] }[] }).node.filter((n) => /Conv2D|DepthwiseConv2dNative/.test(n.op));
  const specs = new Map((artifacts.weightSpecs ?? []).map((w) => [w.name, w.shape as [number, number, number, number]]));
  const outs = tf.tidy(() => graph.execute(tf.zeros([1, size, size, 3]), convs.map((n) => n.name)) as tf.Tensor[]);
  let macs = 0;
  convs.forEach((n, i) => {
    const [, h, w, c] = outs[i].shape as [number, number, number, number];
    const k = specs.get(n.input[1]);
    if (!k) throw new Error(`no filter shape for ${n.name}`);
    const [kh, kw, cin, multiplier] = k;
    macs += h * w * kh * kw * cin * (/Depthwise/.test(n.op) ? multiplier : c);
  });
  tf.dispose(outs);
  return macs;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

async function imagesPerSecond(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return batch / ((performance.now() - t0) / 1000);
}

async function benchBackbone(spec: BackboneSpec, peakPerCore: number) {
  const size = SIZES[spec.id] ?? spec.defaultImageSize;
  const pixels = await photos(batch, size);
  const net = await spec.load(size, size);
  const tfjsRun = async () => {
    const f = tf.tidy(() => net.features(tf.tensor4d(pixels, [batch, size, size, 3])));
    await f.data();
    f.dispose();
  };
  const support = onnxExportSupport(spec.id);
  const sessions: OnnxSession[] = [];
  const exported = await backboneFeatureExport(spec.id);
  if (exported) {
    for (const threads of [1, 2]) sessions.push(await OnnxSession.create(exported.bytes, { intraOpNumThreads: threads }));
  }
  const ortRun = (s: OnnxSession) => async () => {
    const pooled = (await s.run({ data: pixels, dims: [batch, size, size, 3] })).data;
    if (spec.finish) await spec.finish(pooled, batch);
  };
  await tfjsRun(); // warm-up: kernel setup, weight upload
  for (const s of sessions) await ortRun(s)();
  const rates: { tfjs: number[]; ort1: number[]; ort2: number[] } = { tfjs: [], ort1: [], ort2: [] };
  for (let r = 0; r < rounds; r++) {
    rates.tfjs.push(await imagesPerSecond(tfjsRun));
    if (sessions.length) {
      rates.ort1.push(await imagesPerSecond(ortRun(sessions[0])));
      rates.ort2.push(await imagesPerSecond(ortRun(sessions[1])));
    }
  }
  for (const s of sessions) await s.release();
  const macs = spec.id === IMAGENET_BACKBONE_ID ? await imagenetMacs(size) : await centernetMacs(size);
  const flopPerImage = 2 * macs;
  const stats = (xs: number[], cores: number) =>
    xs.length
      ? { best: round(Math.max(...xs)), median: round(median(xs)), peakShareBest: round((Math.max(...xs) * flopPerImage) / (cores * peakPerCore), 3), cores }
      : null;
  const tfjs = stats(rates.tfjs, 1)!;
  const ort1 = stats(rates.ort1, 1);
  const ort2 = stats(rates.ort2, 2);
  return {
    backbone: spec.id,
    imageSize: size,
    batch,
    rounds,
    multiplyAddsPerImage: macs,
    gmacsPerImage: round(macs / 1e9, 3),
    tfjsWasm: tfjs,
    onnxRuntime1Thread: ort1,
    onnxRuntime2Threads: ort2,
    ...(sessions.length ? {} : { onnxRuntimeNote: `not measured: ${support.supported ? 'the engine has no ONNX export for this backbone' : support.reason}` }),
    ortPerCoreOverTfjs: ort1 ? { best: round(ort1.best / tfjs.best, 1), median: round(ort1.median / tfjs.median, 1) } : null,
    twoThreadsOverOne: ort1 && ort2 ? { best: round(ort2.best / ort1.best, 2), median: round(ort2.median / ort1.median, 2) } : null,
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => round(l));
  const backend = await selectBackend({ prefer: 'wasm' });
  const clock = cpuGhz();
  const cores = os.availableParallelism();
  const peakPerCore = clock.ghz * 1e9 * FLOP_PER_CYCLE;
  const results = [];
  for (const spec of BACKBONES) results.push(await benchBackbone(spec, peakPerCore));
  console.log(
    JSON.stringify(
      {
        bench: 'backbone',
        photos: catsV1Dir().endsWith('cats-v1') ? 'cats-v1' : catsV1Dir(),
        tfjsBackend: backend,
        machine: { cores, ghz: round(clock.ghz, 3), clockFrom: clock.source, flopPerCyclePerCore: FLOP_PER_CYCLE, peakGflopsPerCore: round(peakPerCore / 1e9, 1) },
        loadAverage: { before: loadBefore, after: os.loadavg().map((l) => round(l)) },
        note:
          'images/s per engine, interleaved rounds of one batch each; peakShareBest = best images/s x 2 x multiply-adds / (cores used x peak per core). ' +
          '"cpu MHz" is the clock the kernel reports (nominal in a VM); a core running above it (turbo) has a higher real peak, so the shares are upper bounds',
        backbones: results,
      },
      null,
      2,
    ),
  );
}

void main();
