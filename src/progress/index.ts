/**
 * The callback shapes long-running library code reports through. This module imports nothing: every layer may use
 * it, and whoever calls the library (the CLI's bars, a notebook, a test) decides how to show what it receives.
 */

/** Called with the number of finished units and the total, and optionally what is being worked on. */
export interface Progress {
  (done: number, total: number, label?: string): void;
}

/**
 * Fields that go with a log line (a request id, a status, a duration). `level` ('debug', 'info', 'warn', 'error';
 * default 'info') says how important the line is to a logger that has levels; the rest are shown as they are.
 */
export type LogFields = Record<string, unknown>;

/**
 * Receives one human-readable line (a step's cache hit, a server's startup message, a warning) and optionally
 * structured fields that go with it. A callback that takes only the line is a `Log` too.
 */
export type Log = (line: string, fields?: LogFields) => void;
