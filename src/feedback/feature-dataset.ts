import type { S3Store } from '../storage/s3-client.js';
import type { FeatureMatrix } from '../model/backbone-features.js';
import type { FeedbackFlag } from './dataset.js';
import { DEFAULT_FEEDBACK_PREFIX, FEATURE_RECORDS_FOLDER, type FeatureFeedbackRecord } from './types.js';

/** The feature identity a model's head trains on: only records made the same way are comparable. */
export interface FeatureIdentity {
  backbone: string;
  recipe: number;
  imageSize: number;
  /** The training views, in the order the head's training uses them (e.g. `plain`, `mirrored`). */
  views: readonly string[];
}

export interface FeatureFeedbackOptions {
  prefix?: string;
  /** Only feedback received at or after this time (ISO 8601). */
  since?: string;
  /** Most items one client (by its hash) may contribute; the oldest are kept. Default: no cap. */
  perClientCap?: number;
  /** An answer against a prediction this sure (either way) is flagged as suspicious (default 0.95). */
  confident?: number;
  /**
   * More records checked with the ones in S3, as one set (e.g. the features of consented feedback photos, computed
   * for a fine-tune): conflicts between them and the stored records, duplicates and the per-client cap span both.
   */
  extraRecords?: FeatureFeedbackRecord[];
}

export interface FeatureFeedbackPull {
  /** Records used, with their label (1: cat). */
  used: Array<{ record: FeatureFeedbackRecord; label: 0 | 1 }>;
  /** Left out: conflicting answers for the same features, duplicates, damaged records. */
  excluded: FeedbackFlag[];
  /** Used but worth a look: the answer overturns a confident prediction. */
  suspicious: FeedbackFlag[];
  /** Refused: made by another backbone, feature recipe, image size or views (never mixed in). */
  refused: { count: number; reasons: Record<string, number> };
  /** Per-client cap: items left out because their client had already given `cap`. */
  capped: { cap: number | null; dropped: number; clients: number };
  /** Records read (before any check, after `since`). */
  read: number;
}

function refusal(rec: FeatureFeedbackRecord, want: FeatureIdentity): string | null {
  const f = rec.features;
  if (!f || !Array.isArray(f.values)) return 'no features';
  if (f.backbone !== want.backbone) return `backbone ${String(f.backbone)}`;
  if (f.recipe !== want.recipe) return `feature recipe v${String(f.recipe)}`;
  if (f.imageSize !== want.imageSize) return `image size ${String(f.imageSize)}`;
  if (!Array.isArray(f.views) || want.views.some((v) => !f.views.includes(v))) return `views ${JSON.stringify(f.views)}`;
  return null;
}

/**
 * Read the "use my answer, do not keep my photo" records from S3 and check them as photo feedback is checked:
 * records made by another backbone, feature recipe, size or set of views are refused and counted (their numbers
 * mean something else); the same features (by their hash) answered both ways are excluded, repeats of one item
 * are excluded; an answer that overturns a confident prediction is flagged. Then at most `perClientCap` items per
 * client are kept (oldest first), so a flood from one client cannot dominate the training.
 */
export async function pullFeatureFeedback(
  store: S3Store,
  bucket: string,
  want: FeatureIdentity,
  options: FeatureFeedbackOptions = {},
): Promise<FeatureFeedbackPull> {
  const prefix = options.prefix ?? DEFAULT_FEEDBACK_PREFIX;
  const confident = options.confident ?? 0.95;
  const keys = (await store.listKeys(bucket, `${prefix}${FEATURE_RECORDS_FOLDER}`)).map((o) => o.key).filter((k) => k.endsWith('.json')).sort();
  const excluded: FeedbackFlag[] = [];
  const refused = { count: 0, reasons: {} as Record<string, number> };
  const records: FeatureFeedbackRecord[] = [];
  let read = 0;
  const extra = options.extraRecords ?? [];
  for (const [i, key] of [...keys, ...extra.map((r) => r.recordKey)].entries()) {
    let rec: FeatureFeedbackRecord;
    if (i >= keys.length) rec = extra[i - keys.length];
    else {
      try {
        rec = JSON.parse((await store.getObject(bucket, key)).toString('utf8')) as FeatureFeedbackRecord;
      } catch (err) {
        excluded.push({ id: key, reason: `unreadable record: ${(err as Error).message}` });
        continue;
      }
    }
    if (options.since && !(rec.time >= options.since)) continue;
    read++;
    if (rec.consent !== true) {
      excluded.push({ id: rec.id ?? key, reason: 'no consent recorded' });
      continue;
    }
    if (rec.answer !== 'cat' && rec.answer !== 'not-cat') {
      excluded.push({ id: rec.id ?? key, reason: `unknown answer "${String(rec.answer)}"` });
      continue;
    }
    const why = refusal(rec, want);
    if (why) {
      refused.count++;
      refused.reasons[why] = (refused.reasons[why] ?? 0) + 1;
      continue;
    }
    records.push(rec);
  }
  records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byHash = new Map<string, FeatureFeedbackRecord[]>();
  for (const rec of records) byHash.set(rec.features.hash, [...(byHash.get(rec.features.hash) ?? []), rec]);

  const suspicious: FeedbackFlag[] = [];
  const perClient = new Map<string, number>();
  const cap = options.perClientCap ?? null;
  let dropped = 0;
  const cappedClients = new Set<string>();
  const used: FeatureFeedbackPull['used'] = [];
  for (const rec of records) {
    const same = byHash.get(rec.features.hash)!;
    if (new Set(same.map((r) => r.answer)).size > 1) {
      excluded.push({ id: rec.id, reason: `inconsistent: the same photo's features were answered both cat and not-cat (${same.length} answers)` });
      continue;
    }
    if (same[0].id !== rec.id) {
      excluded.push({ id: rec.id, reason: `duplicate of ${same[0].id}` });
      continue;
    }
    const client = rec.clientHash ?? 'unknown';
    const n = perClient.get(client) ?? 0;
    if (cap !== null && n >= cap) {
      dropped++;
      cappedClients.add(client);
      continue;
    }
    perClient.set(client, n + 1);
    const p = rec.prediction?.probability;
    if (typeof p === 'number' && ((rec.answer === 'not-cat' && p >= confident) || (rec.answer === 'cat' && p <= 1 - confident))) {
      suspicious.push({ id: rec.id, reason: `answer "${rec.answer}" overturns a confident prediction (p(cat) ${p.toFixed(3)})` });
    }
    used.push({ record: rec, label: rec.answer === 'cat' ? 1 : 0 });
  }
  return { used, excluded, suspicious, refused, capped: { cap, dropped, clients: cappedClients.size }, read };
}

/**
 * The used records as training rows: one feature matrix per view (in `views` order) and their labels. Rows go in
 * the order of their feature hashes, not of their ids (which carry the time and a random part), so the same answers
 * train the same model however and whenever they arrived.
 */
export function featureRows(records: FeatureFeedbackPull['used'], views: readonly string[]): { views: FeatureMatrix[]; labels: Uint8Array } {
  const used = [...records].sort((a, b) => (a.record.features.hash < b.record.features.hash ? -1 : a.record.features.hash > b.record.features.hash ? 1 : a.label - b.label));
  const dim = used[0]?.record.features.values[0]?.length ?? 0;
  const matrices = views.map((view) => {
    const data = new Float32Array(used.length * dim);
    used.forEach(({ record }, i) => {
      const row = record.features.values[record.features.views.indexOf(view)];
      if (row.length !== dim) throw new Error(`feature record ${record.id} has ${row.length} numbers in view ${view}, expected ${dim}`);
      data.set(row, i * dim);
    });
    return { n: used.length, dim, data };
  });
  return { views: matrices, labels: Uint8Array.from(used.map((u) => u.label)) };
}

/** One line for logs and run tags. */
export function describeFeatureFeedback(pull: FeatureFeedbackPull): string {
  const refused = Object.entries(pull.refused.reasons).map(([r, n]) => `${n} ${r}`).join(', ');
  return (
    `${pull.used.length} used, ${pull.excluded.length} excluded, ${pull.suspicious.length} suspicious, ` +
    `${pull.refused.count} refused${refused ? ` (${refused})` : ''}` +
    (pull.capped.cap !== null ? `, ${pull.capped.dropped} over the per-client cap of ${pull.capped.cap} (${pull.capped.clients} clients)` : '')
  );
}

/** The pull without the numbers: what was used (ids and labels), left out, refused and capped (for results and JSON). */
export interface FeatureFeedbackSummary extends Omit<FeatureFeedbackPull, 'used'> {
  used: Array<{ id: string; label: 0 | 1 }>;
}

export function summarizeFeatureFeedback(pull: FeatureFeedbackPull): FeatureFeedbackSummary {
  return { ...pull, used: pull.used.map((u) => ({ id: u.record.id, label: u.label })) };
}
