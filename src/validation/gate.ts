import type { CheckResult, ValidationReport } from './types.js';

export class ValidationGateError extends Error {
  readonly failed: CheckResult[];
  constructor(failed: CheckResult[]) {
    const lines = failed.map((c) => `  - ${c.id}: ${c.summary}`);
    const flags = failed.map((c) => `--allow-check ${c.id}`).join(' ');
    super(
      `data validation failed ${failed.length} check${failed.length > 1 ? 's' : ''}:\n${lines.join('\n')}\n` +
        `Fix the data, or override knowingly with ${flags} (the override is recorded with the run).`,
    );
    this.name = 'ValidationGateError';
    this.failed = failed;
  }
}

export interface GateOutcome {
  /** Checks that warned: record them with the run. */
  warnings: CheckResult[];
  /** Failing checks let through by `allow`. */
  allowed: CheckResult[];
}

/**
 * The pipeline's data gate: throws a `ValidationGateError` naming every failing check not listed in `allow` and
 * the flag that overrides it; otherwise returns the warnings (and allowed failures) for recording.
 */
export function assertValidationGate(report: ValidationReport, options: { allow?: string[] } = {}): GateOutcome {
  const allow = new Set(options.allow ?? []);
  const known = new Set(report.checks.map((c) => c.id));
  const unknown = [...allow].filter((id) => !known.has(id));
  if (unknown.length) {
    throw new Error(`unknown validation check${unknown.length > 1 ? 's' : ''} to allow: ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  }
  const failing = report.checks.filter((c) => c.status === 'fail');
  const blocked = failing.filter((c) => !allow.has(c.id));
  if (blocked.length) throw new ValidationGateError(blocked);
  return { warnings: report.checks.filter((c) => c.status === 'warn'), allowed: failing.filter((c) => allow.has(c.id)) };
}
