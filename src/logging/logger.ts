import { pino, type Logger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Log, LogFields } from '../progress/index.js';

/** How log lines are written: one JSON object per line, or coloured human-readable lines (pino-pretty). */
export type LogFormat = 'json' | 'pretty';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Default: pretty when the destination is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Lines below this level are dropped (default 'info'). */
  level?: LogLevel;
  /** Where lines go (default stderr, so that stdout stays the command's output). */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The format used when none is asked for: pretty on a terminal, JSON otherwise (files, pipes, log collectors). */
export function defaultLogFormat(destination: { isTTY?: boolean } = process.stderr): LogFormat {
  return destination.isTTY ? 'pretty' : 'json';
}

export function parseLogFormat(value: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new Error(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got "${value}")`);
}

export function parseLogLevel(value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${value}")`);
}

/**
 * A pino logger. JSON lines carry `level` (as a name), `time` (ISO 8601), `msg` and the fields; both formats write
 * synchronously, so nothing is lost when the process exits.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  const format = options.format ?? defaultLogFormat(destination);
  const level: LevelWithSilent = options.level ?? 'info';
  const base = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') {
    const stream = pinoPretty({ destination, sync: true, colorize: destination.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    return pino(base, stream);
  }
  return pino({ ...base, formatters: { level: (label) => ({ level: label }) } }, destination);
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

/**
 * The library's `Log` callback on top of a pino logger: the line becomes `msg`, the fields go along, and a `level`
 * field picks the level (default info; a line that starts with "warning:" is a warning).
 */
export function logTo(logger: Logger): Log {
  return (line: string, fields?: LogFields) => {
    const { level, ...rest } = fields ?? {};
    const chosen = typeof level === 'string' && LEVELS.has(level) ? (level as 'debug' | 'info' | 'warn' | 'error') : /^warning:/i.test(line) ? 'warn' : 'info';
    logger[chosen](rest, line);
  };
}
