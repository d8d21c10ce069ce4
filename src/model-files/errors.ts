/** A pretrained model's files are neither vendored nor cached and could not be fetched. */
export class ModelFilesUnavailableError extends Error {
  override readonly name = 'ModelFilesUnavailableError';
}

/** A file whose bytes do not match the SHA-256 (or size) pinned in the source. */
export class ModelFileChecksumError extends Error {
  override readonly name = 'ModelFileChecksumError';
}
