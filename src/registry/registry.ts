import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../storage/atomic.js';
import { timeSortableId } from '../storage/ids.js';
import { appendJsonLine, readJsonLines } from '../storage/jsonl.js';
import { paths } from '../storage/paths.js';
import { AlreadyPromotedError } from './errors.js';
import { decidePromotion, resolvePolicy } from './gate.js';
import { withLock } from './lock.js';
import { REGISTRY_SCHEMA, type CardMetrics, type Decision, type ModelCard, type PromotedModel, type PromotedPointer, type PromotionPolicy } from './types.js';
import type { ModelCardDetails } from './model-card.js';
import { MODEL_CARD_FILE, renderModelCardMarkdown } from './model-card-markdown.js';

interface RootOpt {
  /** Registry folder; defaults to paths.registry(). */
  root?: string;
}

// The registry's on-disk layout (see types.ts): only this module joins these paths; everything else asks it.
const rootOf = (o?: RootOpt) => o?.root ?? paths.registry();
const versionsDir = (root: string) => path.join(root, 'versions');
const pointerFile = (root: string) => path.join(root, 'promoted.json');
const decisionsFile = (root: string) => path.join(root, 'decisions.jsonl');

/** Where the promoted pointer (`promoted.json`) lives; absent means nothing is promoted. */
export function promotedPointerPath(opts?: RootOpt): string {
  return pointerFile(rootOf(opts));
}

/** Accept 3, '3' or 'v3'. */
export function parseVersion(v: number | string): number {
  const n = typeof v === 'number' ? v : Number(String(v).replace(/^v/i, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${v}" is not a model version (use v1, v2, ...)`);
  return n;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** A tfjs model directory: model.json plus every weight file its manifest names. */
async function checkModelDir(dir: string): Promise<void> {
  const modelJson = path.join(dir, 'model.json');
  const model = await readJson<{ modelTopology?: unknown; weightsManifest?: Array<{ paths: string[] }> }>(modelJson).catch((err: Error) => {
    throw new Error(`${dir} is not a tfjs model directory: ${err.message}`);
  });
  if (!model.modelTopology) throw new Error(`${modelJson} has no modelTopology; not a tfjs model`);
  for (const group of model.weightsManifest ?? []) {
    for (const p of group.paths) {
      if (!fs.existsSync(path.join(dir, p))) throw new Error(`${dir}: weight file ${p} named in model.json is missing`);
    }
  }
}

export interface RegisterOptions extends RootOpt {
  /** Folder with the saved tfjs model (model.json and weights), e.g. a run's artifacts/model. */
  modelDir: string;
  runId: string | null;
  dataset: { name: string | null; manifestHash: string };
  metrics: CardMetrics;
  threshold: number;
  thresholdStrategy: string;
  imageSize: number;
  notes?: ModelCard['notes'];
  details?: ModelCardDetails;
}

/**
 * Add a model as the next version. The files are copied into a temp folder beside the versions and renamed
 * into place when complete, so `versions/vN` is never seen half-written. Registering does not promote.
 */
export async function registerModel(opts: RegisterOptions): Promise<PromotedModel> {
  if (!opts.dataset?.manifestHash) throw new Error('registering a model needs the manifest hash of the data set it was tested on');
  if (!(opts.threshold >= 0 && opts.threshold <= 1)) throw new Error(`threshold must be in [0, 1], got ${opts.threshold}`);
  if (!Number.isInteger(opts.imageSize) || opts.imageSize < 1) throw new Error(`imageSize must be a positive integer, got ${opts.imageSize}`);
  await checkModelDir(opts.modelDir);
  const root = rootOf(opts);
  const vdir = versionsDir(root);
  await fsp.mkdir(vdir, { recursive: true });
  const tmp = path.join(vdir, `.tmp-${process.pid}-${timeSortableId()}`);
  await fsp.cp(opts.modelDir, tmp, { recursive: true });
  try {
    const files = (await listFiles(tmp)).filter((f) => f !== 'card.json');
    // Flush the copied files before the rename makes them visible, so a crash cannot leave a named but empty version.
    for (const f of files) {
      const h = await fsp.open(path.join(tmp, f), 'r');
      await h.sync().finally(() => h.close());
    }
    // The copy happens outside the lock; numbering and the rename into place happen under it.
    return await withLock(root, async () => {
      const version = (await versionNumbers(root)).reduce((a, b) => Math.max(a, b), 0) + 1;
      const card: ModelCard = {
        schema: REGISTRY_SCHEMA,
        version,
        runId: opts.runId,
        dataset: { name: opts.dataset.name, manifestHash: opts.dataset.manifestHash },
        metrics: opts.metrics,
        threshold: opts.threshold,
        thresholdStrategy: opts.thresholdStrategy,
        imageSize: opts.imageSize,
        createdAt: new Date().toISOString(),
        files,
        ...(opts.notes ? { notes: opts.notes } : {}),
        ...(opts.details ? { details: opts.details } : {}),
      };
      await writeJsonAtomic(path.join(tmp, 'card.json'), card);
      // The human-readable card beside the model files (not one of them: `files` lists the model).
      await writeFileAtomic(path.join(tmp, MODEL_CARD_FILE), renderModelCardMarkdown(card));
      const dir = path.join(vdir, `v${version}`);
      await fsp.rename(tmp, dir);
      return { version, dir, card };
    });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function versionNumbers(root: string): Promise<number[]> {
  const names = await fsp.readdir(versionsDir(root)).catch(() => [] as string[]);
  return names.filter((n) => /^v\d+$/.test(n)).map((n) => Number(n.slice(1)));
}

/** One version with its card; a clear error when it does not exist or its card is damaged. */
export async function getVersion(v: number | string, opts?: RootOpt): Promise<PromotedModel> {
  const version = parseVersion(v);
  const dir = path.join(versionsDir(rootOf(opts)), `v${version}`);
  if (!fs.existsSync(dir)) throw new Error(`model version v${version} does not exist in the registry`);
  const card = await readJson<ModelCard>(path.join(dir, 'card.json'));
  return { version, dir, card };
}

/** All versions, oldest first; versions with a damaged card are reported in `broken`. */
export async function listVersions(opts?: RootOpt): Promise<{ versions: PromotedModel[]; broken: Array<{ version: number; problem: string }> }> {
  const out: { versions: PromotedModel[]; broken: Array<{ version: number; problem: string }> } = { versions: [], broken: [] };
  for (const v of (await versionNumbers(rootOf(opts))).sort((a, b) => a - b)) {
    try {
      out.versions.push(await getVersion(v, opts));
    } catch (err) {
      out.broken.push({ version: v, problem: (err as Error).message });
    }
  }
  return out;
}

/**
 * The promoted pointer as stored (version, dir relative to the registry, card, when and by which decision), or
 * null when nothing is promoted. A damaged file is a clear error.
 */
export function readPromotedPointer(opts?: RootOpt): PromotedPointer | null {
  const file = pointerFile(rootOf(opts));
  let text: string;
  try {
    // A synchronous read of this small local file costs tens of microseconds; the promise-based one costs several
    // times more (it takes several trips through the thread pool).
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let p: PromotedPointer;
  try {
    p = JSON.parse(text) as PromotedPointer;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); the file may be damaged`);
  }
  if (!p || !Number.isInteger(p.version) || typeof p.dir !== 'string' || !p.card || p.card.version !== p.version) {
    throw new Error(`${file} does not describe a promoted model (version, dir and card expected); the file may be damaged`);
  }
  return p;
}

/**
 * The promoted model, or null when none is. Reads one small file (promoted.json, card embedded), so servers
 * may call it on every request. The directory it names is complete and never changes.
 */
export async function readPromoted(opts?: RootOpt): Promise<PromotedModel | null> {
  const p = readPromotedPointer(opts);
  return p ? { version: p.version, dir: path.join(rootOf(opts), p.dir), card: p.card } : null;
}

/** Every recorded decision, oldest first (a torn last line is skipped). */
export async function readDecisions(opts?: RootOpt): Promise<Decision[]> {
  return (await readJsonLines<Decision>(decisionsFile(rootOf(opts)))).records;
}

function appendDecision(root: string, d: Decision): Promise<void> {
  return appendJsonLine(decisionsFile(root), d, { sync: true });
}

async function setPointer(root: string, model: PromotedModel, decisionId: string, time: string): Promise<void> {
  const pointer: PromotedPointer = {
    schema: REGISTRY_SCHEMA,
    version: model.version,
    dir: path.relative(root, model.dir).split(path.sep).join('/'),
    card: model.card,
    promotedAt: time,
    decisionId,
  };
  await writeJsonAtomic(pointerFile(root), pointer);
}

function userName(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return null;
  }
}

const policyFile = (root: string) => path.join(root, 'policy.json');

/**
 * The registry's configured promotion policy: `policy.json` in the registry folder over the defaults.
 * `overrides` (e.g. command-line options; undefined values ignored) win over both.
 */
export async function readPolicy(opts: RootOpt & { overrides?: Partial<PromotionPolicy> } = {}): Promise<PromotionPolicy> {
  const file = policyFile(rootOf(opts));
  const stored = fs.existsSync(file) ? await readJson<Partial<PromotionPolicy>>(file) : {};
  const defined = Object.fromEntries(Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined));
  try {
    return resolvePolicy({ ...stored, ...defined });
  } catch (err) {
    throw new Error(`${(err as Error).message} (policy from ${file} and options)`);
  }
}

/** Change the configured policy (validated, written atomically); returns the new effective policy. */
export async function writePolicy(changes: Partial<PromotionPolicy>, opts: RootOpt = {}): Promise<PromotionPolicy> {
  const policy = await readPolicy({ ...opts, overrides: changes });
  await writeJsonAtomic(policyFile(rootOf(opts)), policy);
  return policy;
}

export interface PromoteOptions extends RootOpt {
  policy?: Partial<PromotionPolicy>;
  /** Promote even when the gate says no (needs a reason). */
  force?: boolean;
  reason?: string;
  user?: string;
  /**
   * The current champion's card with metrics re-measured on the candidate's test set (when they were tested on
   * different data); ignored unless it is the card of the version promoted at decision time.
   */
  championOnCandidateTest?: ModelCard;
}

/**
 * Run the gate for a version against the promoted champion and promote it when it passes (or when forced).
 * The decision, promoted or rejected, is appended to decisions.jsonl with its reasons.
 */
export async function promote(v: number | string, opts: PromoteOptions = {}): Promise<Decision> {
  const root = rootOf(opts);
  const policy = await readPolicy({ root, overrides: opts.policy });
  if (opts.force && !opts.reason?.trim()) throw new Error('a forced promotion needs a reason');
  return withLock(root, async () => {
    const candidate = await getVersion(v, opts);
    const current = await readPromoted(opts);
    if (current?.version === candidate.version) throw new AlreadyPromotedError(candidate.version);
    // A champion re-measured on the candidate's test set (same model, same threshold) makes the two comparable.
    const championCard = opts.championOnCandidateTest && current && opts.championOnCandidateTest.version === current.version ? opts.championOnCandidateTest : current?.card ?? null;
    const gate = decidePromotion(candidate.card, championCard, policy);
    const time = new Date().toISOString();
    const action = gate.promote ? 'promote' : opts.force ? 'force-promote' : 'reject';
    const goes = action !== 'reject';
    const decision: Decision = {
      id: `d-${timeSortableId()}`,
      time,
      action,
      candidate: candidate.version,
      previous: current?.version ?? null,
      promoted: goes ? candidate.version : (current?.version ?? null),
      reasons: action === 'force-promote' ? [`forced: ${opts.reason!.trim()}`, ...gate.reasons.map((r) => `gate said no: ${r}`)] : gate.reasons,
      checks: gate.checks,
      policy,
      userReason: opts.reason?.trim() || null,
      user: opts.user ?? userName(),
    };
    if (goes) await setPointer(root, candidate, decision.id, time);
    await appendDecision(root, decision);
    return decision;
  });
}

/** Point back at an earlier version (lower number than the promoted one). Needs a reason; recorded like any decision. */
export async function rollback(v: number | string, opts: RootOpt & { reason: string; user?: string }): Promise<Decision> {
  const root = rootOf(opts);
  if (!opts.reason?.trim()) throw new Error('a rollback needs a reason');
  return withLock(root, async () => {
    const target = await getVersion(v, opts);
    const current = await readPromoted(opts);
    if (!current) throw new Error('nothing is promoted, so there is nothing to roll back; use promote');
    if (target.version >= current.version) {
      throw new Error(`rollback goes to an earlier version: v${target.version} is not earlier than the promoted v${current.version}`);
    }
    const time = new Date().toISOString();
    const decision: Decision = {
      id: `d-${timeSortableId()}`,
      time,
      action: 'rollback',
      candidate: target.version,
      previous: current.version,
      promoted: target.version,
      reasons: [`rolled back from v${current.version} to v${target.version}: ${opts.reason.trim()}`],
      checks: [],
      policy: null,
      userReason: opts.reason.trim(),
      user: opts.user ?? userName(),
    };
    await setPointer(root, target, decision.id, time);
    await appendDecision(root, decision);
    return decision;
  });
}

/**
 * Call `cb` whenever the promoted model changes (polls promoted.json's modification time). Returns a stop function.
 */
export function watchPromoted(cb: (model: PromotedModel | null) => void, opts: RootOpt & { intervalMs?: number } = {}): () => void {
  const file = pointerFile(rootOf(opts));
  const listener = (curr: fs.Stats, prev: fs.Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino) return;
    readPromoted(opts).then(cb, () => undefined);
  };
  fs.watchFile(file, { interval: opts.intervalMs ?? 500, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
