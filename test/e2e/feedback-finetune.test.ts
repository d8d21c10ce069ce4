import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { predict, sendFeedback } from '../../src/feedback/client.js';
import type { FeatureFeedbackRecord } from '../../src/feedback/types.js';
import { predictFromFeatures } from '../../src/model/backbone-features.js';
import { headOf } from '../../src/model/backbone-layer.js';
import { runDeployPipeline } from '../../src/pipelines/deploy-pipeline.js';
import { runFinetunePipeline } from '../../src/pipelines/finetune-pipeline.js';
import { loadRegisteredModel } from '../../src/pipelines/registered-model.js';
import { getVersion, readPromoted } from '../../src/registry/registry.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { getRun } from '../../src/tracking/runs.js';
import { startTestS3, type TestS3, s3Env } from '../helpers/s3-server.js';
import { testServerOptions } from '../serve/helpers/server-fixture.js';

/**
 * Issue 18's acceptance, end to end on real photos: deploy a small cats-v1 model, serve it, send features-only
 * feedback (store=features) with the labels of one slice (a source's cats and dogs) deliberately flipped, fine-tune, and see the gate reject
 * the poisoned candidate; then honest feedback on photos the model got wrong, fine-tune, and see those photos'
 * error fall while the test metrics stay not worse than the champion's (the gate promotes). Kept small (45 photos
 * per group and source for the deploy; backbone features at 256 px are about 0.25 s a photo for both views here).
 */
const CATS_V1 = path.resolve(process.env.AREYOUACAT_CATS_V1 ?? '../shared/datasets/cats-v1');
const present = existsSync(path.join(CATS_V1, 'manifest.csv'));
if (!present) console.warn(`feedback fine-tune e2e test skipped: cats-v1 not found at ${CATS_V1} (set AREYOUACAT_CATS_V1)`);

const PER_PAIR = 45;
/** Poisoned answers, from POISON_CLIENTS clients (each under the default per-client cap of 50). */
const POISONED = 120;
const POISON_CLIENTS = 3;
/** Honest corrections wanted, and the most users' photos tried to find them (the champion gets most photos right). */
const CORRECTIONS = 8;
const MAX_TRIED = 900;
/**
 * The gate's minimums and the zero-shot baseline are for real deploys; a 360-photo model is judged here only against
 * its champion (on a test split this small it can tie the ImageNet classifier alone), on the area under its
 * precision-recall curve: the test split has 13 cats, so F1 at one threshold moves in steps of about 0.04 and a
 * fine-tune that ranks the photos clearly worse (poisoned: PR AUC 0.955 against 0.995) can still tie it.
 */
const POLICY = { minPrecision: 0, minRecall: 0, baseline: 'ignore' as const, primaryMetric: 'prAuc' as const };

interface Photo {
  rel: string;
  group: string;
  source: string;
}

let root: string;
let s3: TestS3 | undefined;
let srv: RunningServer | undefined;
const savedEnv = { ...process.env };

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  process.env = savedEnv;
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function feedbackRecords(): Promise<FeatureFeedbackRecord[]> {
  const keys = (await s3!.store.listKeys(s3!.bucket, 'feedback/features/')).map((o) => o.key);
  return Promise.all(keys.map(async (k) => JSON.parse((await s3!.store.getObject(s3!.bucket, k)).toString('utf8')) as FeatureFeedbackRecord));
}

/**
 * How many records each registered version gets wrong at its own threshold, from the records' features: the mean
 * of the head over the plain and the mirrored view, as the model answers for a photo.
 */
async function wrongOn(version: number, records: FeatureFeedbackRecord[]): Promise<{ wrong: number; meanError: number }> {
  const registered = await loadRegisteredModel(version);
  try {
    const dim = records[0].features.values[0].length;
    const head = headOf(registered.model);
    const inView = async (view: number) => {
      const data = new Float32Array(records.length * dim);
      records.forEach((r, i) => data.set(r.features.values[view], i * dim));
      return predictFromFeatures(head, { n: records.length, dim, data });
    };
    const [plain, mirrored] = [await inView(0), await inView(1)];
    const probs = plain.map((p, i) => (p + mirrored[i]) / 2);
    let wrong = 0;
    let error = 0;
    records.forEach((r, i) => {
      const truth = r.answer === 'cat' ? 1 : 0;
      if ((probs[i] >= registered.card.threshold ? 1 : 0) !== truth) wrong++;
      error += Math.abs(truth - probs[i]);
    });
    return { wrong, meanError: error / records.length };
  } finally {
    registered.model.dispose();
  }
}

describe.skipIf(!present)('learning from feedback kept as features (cats-v1)', () => {
  it('rejects a fine-tune on poisoned answers and promotes one on honest corrections', async () => {
    const started = Date.now();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-finetune-e2e-'));
    process.env.AREYOUACAT_HOME = path.join(root, 'home');
    s3 = await startTestS3('finetune');
    Object.assign(process.env, s3Env(s3));

    // The deploy's data: PER_PAIR photos of every (group, source) pair; the rest of cats-v1 is the users' photos.
    const lines = (await fs.readFile(path.join(CATS_V1, 'manifest.csv'), 'utf8')).trim().split('\n');
    const header = lines[0].split(',');
    const col = (name: string) => header.indexOf(name);
    const all: Photo[] = lines.slice(1).map((l) => {
      const c = l.split(',');
      return { rel: c[col('path')], group: c[col('label')], source: c[col('source')] };
    });
    const taken = new Map<string, number>();
    const kept = [lines[0]];
    const inDeploy = new Set<string>();
    const data = path.join(root, 'data');
    for (const [i, p] of all.entries()) {
      const key = `${p.group}:${p.source}`;
      if ((taken.get(key) ?? 0) >= PER_PAIR) continue;
      taken.set(key, (taken.get(key) ?? 0) + 1);
      await fs.mkdir(path.join(data, p.group), { recursive: true });
      await fs.copyFile(path.join(CATS_V1, p.rel), path.join(data, p.rel));
      kept.push(lines[i + 1]);
      inDeploy.add(p.rel);
    }
    await fs.writeFile(path.join(data, 'manifest.csv'), kept.join('\n') + '\n');
    const users = all.filter((p) => !inDeploy.has(p.rel));

    const deployed = await runDeployPipeline({ data, epochs: 20, policy: POLICY, allowChecks: ['property-drift', 'property-label-correlation'], log: () => {} });
    expect(deployed.decision?.action).toBe('promote');
    const champion = (await readPromoted())!;
    console.log(`deploy: ${((Date.now() - started) / 1000).toFixed(0)} s, v${champion.version} test f1 ${champion.card.metrics.f1.toFixed(3)}`);

    // Behind a trusted proxy, so that the test can speak for several clients (X-Forwarded-For).
    srv = await startServer(testServerOptions(s3, { workers: 1, trustProxy: true, log: () => undefined }));
    const read = (p: Photo) => fs.readFile(path.join(CATS_V1, p.rel));
    const as = (client: string): typeof fetch => (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': client } });
    const answer = async (p: Photo, truthful: boolean, client: string) => {
      const photo = await read(p);
      const shown = await predict(srv!.url, { data: photo, type: 'image/jpeg' });
      const truth = p.group === 'cat' ? 'cat' : 'not-cat';
      const said = truthful ? truth : truth === 'cat' ? 'not-cat' : 'cat';
      await sendFeedback(srv!.url, { photo: { data: photo, type: 'image/jpeg' }, answer: said, prediction: shown, consent: true, store: 'features' }, { fetch: as(client) });
      return shown;
    };

    // 1. Poisoned: the labels of one source's slice (kaggle-dogs-vs-cats: cats and dogs) flipped, cats said to be
    // no cats and dogs said to be cats.
    const fromSource = (group: string) => users.filter((p) => p.group === group && p.source.startsWith('kaggle-dogs-vs-cats')).slice(0, POISONED / 2);
    const slice = [...fromSource('cat'), ...fromSource('dog')];
    expect(slice.length).toBe(POISONED);
    for (const [i, p] of slice.entries()) await answer(p, false, `203.0.113.${1 + (i % POISON_CLIENTS)}`);
    await srv.uploader.drain();
    expect((await feedbackRecords()).length).toBe(POISONED);
    const t1 = Date.now();
    const poisoned = await runFinetunePipeline({ policy: POLICY, log: (m) => { if (/^epoch|finetune/.test(m)) console.log(m); } });
    console.log(`finetune (poisoned): ${((Date.now() - t1) / 1000).toFixed(1)} s; ${poisoned.decision?.reasons.join('; ')}`);
    const poisonRecords = await feedbackRecords();
    console.log('poisoned answers the champion / the candidate disagree with:', await wrongOn(champion.version, poisonRecords), await wrongOn(poisoned.version!.version, poisonRecords));
    expect(poisoned.summary).toBe(`fine-tuned from v${champion.version} on ${POISONED} feedback items`);
    expect(poisoned.feedback.used.length).toBe(POISONED);
    expect(poisoned.feedback.capped.dropped).toBe(0);
    expect(poisoned.feedback.capped.cap).toBe(50);
    expect(poisoned.decision?.action).toBe('reject');
    expect((await readPromoted())!.version).toBe(champion.version);

    // The operator removes the poisoned answers; users then correct the model where it was wrong.
    await s3.store.deleteObjects(s3.bucket, (await s3.store.listKeys(s3.bucket, 'feedback/features/')).map((o) => o.key));
    // Users' photos in turn from every (group, source) pair, until CORRECTIONS were wrong or MAX_TRIED were shown.
    const pairs = new Map<string, Photo[]>();
    for (const p of users) if (!slice.includes(p)) pairs.set(`${p.group}:${p.source}`, [...(pairs.get(`${p.group}:${p.source}`) ?? []), p]);
    const lists = [...pairs.values()];
    const pool: Photo[] = [];
    for (let i = 0; pool.length < MAX_TRIED && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && pool.length < MAX_TRIED) pool.push(l[i]);
    let corrected = 0;
    let tried = 0;
    for (const p of pool) {
      if (corrected >= CORRECTIONS) break;
      tried++;
      const photo = await read(p);
      const shown = await predict(srv.url, { data: photo, type: 'image/jpeg' });
      if ((shown.decision === 'cat') === (p.group === 'cat')) continue;
      await sendFeedback(srv.url, { photo: { data: photo, type: 'image/jpeg' }, answer: p.group === 'cat' ? 'cat' : 'not-cat', prediction: shown, consent: true, store: 'features' });
      corrected++;
    }
    await srv.uploader.drain();
    console.log(`honest feedback: ${corrected} of ${tried} photos were wrong`);
    expect(corrected).toBeGreaterThanOrEqual(3);
    const honestRecords = await feedbackRecords();
    expect(honestRecords.length).toBe(corrected);
    const before = await wrongOn(champion.version, honestRecords);
    expect(before.wrong).toBe(corrected);

    const t2 = Date.now();
    const honest = await runFinetunePipeline({ policy: POLICY, log: () => {} });
    console.log(`finetune (honest): ${((Date.now() - t2) / 1000).toFixed(1)} s; ${honest.decision?.reasons.join('; ')}`);
    expect(honest.summary).toBe(`fine-tuned from v${champion.version} on ${corrected} feedback items`);
    expect(honest.decision?.action).toBe('promote');
    const candidate = await getVersion(honest.version!.version);
    expect(candidate.card.dataset.manifestHash).toBe(champion.card.dataset.manifestHash); // the champion's test split
    expect(candidate.card.metrics.f1).toBeGreaterThanOrEqual(champion.card.metrics.f1 - 0.01);
    const after = await wrongOn(candidate.version, honestRecords);
    console.log(`error on the corrected photos: ${before.wrong} -> ${after.wrong} wrong, mean |y - p| ${before.meanError.toFixed(3)} -> ${after.meanError.toFixed(3)}`);
    expect(after.wrong).toBeLessThan(before.wrong);
    expect(after.meanError).toBeLessThan(before.meanError);
    const run = await getRun(honest.run!.runId);
    expect(run?.tags).toMatchObject({ kind: 'finetune', finetune: honest.summary, finetunedFrom: `v${champion.version}`, perClientCap: expect.stringMatching(/^50 per client/) });
    console.log(`whole test: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 1_500_000);
});
