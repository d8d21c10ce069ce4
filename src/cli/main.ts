import { buildProgram } from './program.js';
import { registerDataCommands } from './commands/data.js';

// One line per command module; keep this file a list.
const program = buildProgram([
  registerDataCommands,
]);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
});
