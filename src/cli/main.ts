import './require-node.js';
import { buildProgram } from './program.js';
import { registerDataCommands } from './commands/data.js';
import { registerFetchCommands } from './commands/fetch.js';
import { registerValidateCommands } from './commands/validate.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerStartCommand } from './commands/start.js';
import { registerServeCommands } from './commands/serve.js';
import { registerMonitorCommands } from './commands/monitor.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerModelsCommands } from './commands/models.js';

// One line per command module; keep this file a list.
const program = buildProgram([
  registerServeCommands,
  registerMonitorCommands,
  registerDataCommands,
  registerFetchCommands,
  registerValidateCommands,
  registerRunsCommands,
  registerRegistryCommands,
  registerPipelineCommands,
  registerStartCommand,
  registerQueueCommands,
  registerModelsCommands,
]);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
});
