import { buildProgram } from './program.js';
import { registerDataCommands } from './commands/data.js';
import { registerValidateCommands } from './commands/validate.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerPipelineCommands } from './commands/pipeline.js';

// One line per command module; keep this file a list.
const program = buildProgram([
  registerDataCommands,
  registerValidateCommands,
  registerRunsCommands,
  registerRegistryCommands,
  registerPipelineCommands,
]);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
});
