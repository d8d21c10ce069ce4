import { Command } from 'commander';
import { addLogOptions } from './log.js';

/** Build the `areyouacat` program. Each command module adds its subcommands; the CLI holds no logic. */
export function buildProgram(registrars: Array<(program: Command) => void>): Command {
  const program = new Command();
  program
    .name('areyouacat')
    .description('Train, validate, tune, promote, serve and monitor a "is this photo a cat?" classifier.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  addLogOptions(program);
  for (const register of registrars) register(program);
  return program;
}

/** Run an async action and turn a thrown error into a clear message and exit code 1 (no stack for users). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void | number>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      const e = err as Error;
      process.stderr.write(`error: ${e.message}\n`);
      if (process.env.AREYOUACAT_DEBUG) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
    }
  };
}
