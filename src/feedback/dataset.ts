import { createHash } from 'node:crypto';
import type { DataSource, SourceItem } from '../data/types.js';
import { DEFAULT_FEEDBACK_PREFIX, type FeedbackRecord } from './types.js';
import type { S3Store } from '../storage/s3-client.js';

/** Group a "not a cat" answer joins: the user said what it is not, not what it is. */
export const NOT_CAT_GROUP = 'misc';

export interface FeedbackFlag {
  id: string;
  reason: string;
}

export interface FeedbackPull {
  /** Consented items used for training, with the group their answer puts them in. */
  used: Array<{ record: FeedbackRecord; group: string }>;
  /** Items left out, with why (conflicting answers for the same photo, damaged records). */
  excluded: FeedbackFlag[];
  /** Items used but worth a look: the user contradicted a confident prediction. */
  suspicious: FeedbackFlag[];
}

/**
 * Read every consented feedback record from S3 and check it: answers that contradict each other for the same photo
 * (same content hash) are excluded, damaged records are excluded, and answers that overturn a very confident
 * prediction are flagged (kept: they are exactly the corrections the model needs, unless someone is gaming it).
 */
export async function pullFeedback(store: S3Store, bucket: string, prefix = DEFAULT_FEEDBACK_PREFIX, confident = 0.95): Promise<FeedbackPull> {
  const keys = (await store.listKeys(bucket, `${prefix}records/`)).map((o) => o.key).filter((k) => k.endsWith('.json'));
  const records: FeedbackRecord[] = [];
  const excluded: FeedbackFlag[] = [];
  for (const key of keys) {
    try {
      const rec = JSON.parse((await store.getObject(bucket, key)).toString('utf8')) as FeedbackRecord;
      if (rec.consent !== true) excluded.push({ id: rec.id ?? key, reason: 'no consent recorded' });
      else if (rec.answer !== 'cat' && rec.answer !== 'not-cat') excluded.push({ id: rec.id ?? key, reason: `unknown answer "${String(rec.answer)}"` });
      else records.push(rec);
    } catch (err) {
      excluded.push({ id: key, reason: `unreadable record: ${(err as Error).message}` });
    }
  }
  // Photos are read once here to find identical photos with different answers.
  const byHash = new Map<string, FeedbackRecord[]>();
  const hashOf = new Map<string, string>();
  for (const rec of records) {
    try {
      const hash = createHash('sha256').update(await store.getObject(bucket, rec.photoKey)).digest('hex');
      hashOf.set(rec.id, hash);
      byHash.set(hash, [...(byHash.get(hash) ?? []), rec]);
    } catch (err) {
      excluded.push({ id: rec.id, reason: `photo missing: ${(err as Error).message}` });
    }
  }
  const used: FeedbackPull['used'] = [];
  const suspicious: FeedbackFlag[] = [];
  for (const rec of records) {
    const hash = hashOf.get(rec.id);
    if (!hash) continue;
    const same = byHash.get(hash)!;
    if (new Set(same.map((r) => r.answer)).size > 1) {
      excluded.push({ id: rec.id, reason: `inconsistent: the same photo was answered both cat and not-cat (${same.length} answers)` });
      continue;
    }
    if (same[0].id !== rec.id) {
      excluded.push({ id: rec.id, reason: `duplicate of ${same[0].id}` });
      continue;
    }
    const p = rec.prediction?.probability;
    if (typeof p === 'number' && ((rec.answer === 'not-cat' && p >= confident) || (rec.answer === 'cat' && p <= 1 - confident))) {
      suspicious.push({ id: rec.id, reason: `answer "${rec.answer}" overturns a confident prediction (p(cat) ${p.toFixed(3)})` });
    }
    used.push({ record: rec, group: rec.answer === 'cat' ? 'cat' : NOT_CAT_GROUP });
  }
  return { used, excluded, suspicious };
}

/** The used feedback as a data source: `<group>/feedback-<id>.jpg`, read from S3. */
export class FeedbackSource implements DataSource {
  readonly id: string;
  private readonly keyOf = new Map<string, string>();
  constructor(private readonly store: S3Store, private readonly bucket: string, private readonly pull: FeedbackPull) {
    this.id = `feedback:s3://${bucket}`;
    for (const u of pull.used) this.keyOf.set(`${u.group}/feedback-${u.record.id}.jpg`, u.record.photoKey);
  }
  async list(): Promise<SourceItem[]> {
    return [...this.keyOf.keys()].map((p) => ({ path: p, group: p.split('/')[0], source: 'feedback' }));
  }
  async read(item: SourceItem): Promise<Buffer> {
    const key = this.keyOf.get(item.path);
    if (!key) throw new Error(`not a feedback item: ${item.path}`);
    return this.store.getObject(this.bucket, key);
  }
}

/** Several sources as one; paths must not collide (a collision is an error, not a silent overwrite). */
export class CombinedSource implements DataSource {
  readonly id: string;
  private owner = new Map<string, DataSource>();
  constructor(private readonly sources: DataSource[]) {
    this.id = sources.map((s) => s.id).join('+');
  }
  async list(): Promise<SourceItem[]> {
    const all: SourceItem[] = [];
    this.owner.clear();
    for (const s of this.sources) {
      for (const item of await s.list()) {
        if (this.owner.has(item.path)) throw new Error(`${item.path} exists in both ${this.owner.get(item.path)!.id} and ${s.id}`);
        this.owner.set(item.path, s);
        all.push(item);
      }
    }
    return all;
  }
  async read(item: SourceItem): Promise<Buffer> {
    if (this.owner.size === 0) await this.list();
    const s = this.owner.get(item.path);
    if (!s) throw new Error(`unknown item ${item.path}`);
    return s.read(item);
  }
}
