import { Command } from 'commander';
import { parseMix } from '../../data/mix.js';
import { parseGroupMap } from '../../data/sources/index.js';
import { datasetNameFromSpec } from '../../data/dataset-name.js';
import { validateStoredDataset } from '../../validation/dataset.js';
import { assertValidationGate, ValidationGateError } from '../../validation/gate.js';
import { formatValidationReport } from '../../validation/report.js';
import { action } from '../program.js';
import { progressBar } from '../progress.js';
import { dataCommand } from './data.js';

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** `areyouacat data validate`: run the validation suite, save validation.json, print a table or JSON. */
export function registerValidateCommands(program: Command): void {
  dataCommand(program)
    .command('validate')
    .description('Validate a data set (integrity, balance, duplicates, leakage, outliers, drift, shortcuts, label errors); writes validation.json')
    .option('--data <spec>', 'data source to ingest first (a folder of <group>/<image> files); cached ingests are reused')
    .option('--name <name>', 'data set name (default: the folder name); alone, validates an already ingested set')
    .option('--size <px>', 'prepared image size when ingesting', (v) => Number(v))
    .option('--mix <mix>', 'target group mix, e.g. cat=0.25,dog=0.25,selfie=0.25,misc=0.25')
    .option('--groups <map>', 'folder=group renames, e.g. kittens=cat,puppies=dog')
    .option('--allow-check <id>', 'let this failing check pass the gate (repeatable or comma-separated)', collect, [] as string[])
    .option('--json', 'print the full report as JSON')
    .option('--no-save', 'do not write validation.json')
    .action(
      action(async (o: { data?: string; name?: string; size?: number; mix?: string; groups?: string; allowCheck: string[]; json?: boolean; save: boolean }) => {
        if (!o.data && !o.name) throw new Error('give --data <folder> (ingest and validate) or --name <data set> (validate an ingested set)');
        if (o.size !== undefined && !(Number.isInteger(o.size) && o.size >= 8)) throw new Error(`--size must be an integer >= 8`);
        const name = o.name ?? datasetNameFromSpec(o.data!);
        const bar = progressBar('validate');
        let result;
        try {
          result = await validateStoredDataset({
            name, spec: o.data, size: o.size, groups: o.groups ? parseGroupMap(o.groups) : undefined,
            config: o.mix ? { mix: parseMix(o.mix) } : undefined, save: o.save, onProgress: bar,
          });
        } finally {
          bar.stop();
        }
        const { report, file } = result;
        process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatValidationReport(report) + '\n' + (file ? `report: ${file}\n` : ''));
        try {
          const gate = assertValidationGate(report, { allow: o.allowCheck });
          if (gate.allowed.length) process.stderr.write(`allowed failing checks: ${gate.allowed.map((c) => c.id).join(', ')}\n`);
          return 0;
        } catch (err) {
          if (err instanceof ValidationGateError) {
            process.stderr.write(`${err.message}\n`);
            return 1;
          }
          throw err;
        }
      }),
    );
}
