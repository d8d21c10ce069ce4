/**
 * The callback shapes long-running library code reports through. This module imports nothing: every layer may use
 * it, and whoever calls the library (the CLI's bars, a notebook, a test) decides how to show what it receives.
 */

/** Called with the number of finished units and the total, and optionally what is being worked on. */
export interface Progress {
  (done: number, total: number, label?: string): void;
}

/** Receives one human-readable line: a step's cache hit, a server's startup message, a warning. */
export type Log = (line: string) => void;
