/** The four groups of the training mix. Names are configurable; these are the defaults. */
export const DEFAULT_GROUPS = ['cat', 'dog', 'selfie', 'misc'] as const;
export const DEFAULT_POSITIVE_GROUP = 'cat';
export const DEFAULT_MIX: Record<string, number> = { cat: 0.25, dog: 0.25, selfie: 0.25, misc: 0.25 };

export type Split = 'train' | 'val' | 'test';

/** One file a data source offers, before it is read. */
export interface SourceItem {
  /** Path relative to the source root (folder path or key under the S3 prefix), with '/' separators. */
  path: string;
  group: string;
  /** Upstream source name when known (from a manifest.csv), else the source id. */
  source: string;
  size?: number;
}

/** One interface over a folder, an S3 prefix, a fetched public data set and the synthetic set. */
export interface DataSource {
  /** Stable identifier, e.g. `folder:/abs/path`, `s3://bucket/prefix`, `synthetic:seed=1,n=800`. */
  readonly id: string;
  list(): Promise<SourceItem[]>;
  read(item: SourceItem): Promise<Buffer>;
}

export type EntryStatus = 'ok' | 'rejected';

/** One manifest row: every file the source offered, accepted or rejected with a reason. */
export interface ManifestEntry {
  path: string;
  group: string;
  /** 1 when the photo is a cat (the positive group), else 0. */
  label: 0 | 1;
  source: string;
  sha256: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  /** 64-bit perceptual hash (difference hash) as 16 hex characters; '' when the file could not be decoded. */
  phash: string;
  status: EntryStatus;
  /** Why the file was rejected; '' when accepted. */
  reason: string;
  split?: Split;
}

/**
 * Prepared images of one split, ready for training: `pixels` holds n images of size x size x 3 RGB bytes,
 * row-major (image, row, column, channel). Models scale bytes to [0, 1] themselves.
 */
export interface PreparedSplit {
  size: number;
  n: number;
  pixels: Uint8Array;
  /** 1 = cat, 0 = not a cat; one per image. */
  labels: Uint8Array;
  groups: string[];
  paths: string[];
}

export interface PreparedDataset {
  name: string;
  size: number;
  /** sha256 over the manifest's accepted entries and the preparation settings. */
  key: string;
  train: PreparedSplit;
  val: PreparedSplit;
  test: PreparedSplit;
}
