/**
 * Refusals of the registry that callers act on, as typed errors: check `instanceof` (or the predicate) and the
 * `kind`, never the message.
 */
export type RegistryErrorKind = 'already-promoted';

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** `promote()` was asked for the version that is already promoted; nothing was decided or recorded. */
export class AlreadyPromotedError extends RegistryError {
  declare readonly kind: 'already-promoted';
  constructor(readonly version: number) {
    super('already-promoted', `v${version} is already the promoted model`);
    this.name = 'AlreadyPromotedError';
  }
}

export function isAlreadyPromoted(err: unknown): err is AlreadyPromotedError {
  return err instanceof AlreadyPromotedError;
}
