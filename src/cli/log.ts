import { Option, type Command } from 'commander';
import { createLogger, logTo, parseLogFormat, parseLogLevel, type LogFormat, type LogLevel } from '../logging/index.js';
import type { Log } from '../progress/index.js';

let current: Log | null = null;

/** Set up the CLI's logger from the program's --log-format and --log-level (before a command's action runs). */
export function configureCliLog(opts: { logFormat?: LogFormat; logLevel?: LogLevel }): void {
  current = logTo(createLogger({ format: opts.logFormat, level: opts.logLevel }));
}

/**
 * Where the commands and the pipelines and servers they start log: pino on stderr (JSON lines, or pretty on a
 * terminal). Progress bars are not log lines; they stay on stderr as they are.
 */
export const cliLog: Log = (line, fields) => {
  current ??= logTo(createLogger());
  current(line, fields);
};

/** Add the global --log-format and --log-level options and configure the logger before every action. */
export function addLogOptions(program: Command): void {
  program
    .addOption(
      new Option('--log-format <format>', 'log lines as json (one object per line) or pretty; default pretty on a terminal, json otherwise')
        .choices(['json', 'pretty'])
        .env('AREYOUACAT_LOG_FORMAT')
        .argParser(parseLogFormat),
    )
    .addOption(new Option('--log-level <level>', 'lowest level logged').choices(['debug', 'info', 'warn', 'error', 'silent']).env('AREYOUACAT_LOG_LEVEL').default('info').argParser(parseLogLevel));
  program.hook('preAction', () => configureCliLog(program.opts<{ logFormat?: LogFormat; logLevel?: LogLevel }>()));
}
