import { Command } from 'commander';
import { MODEL_MIRROR_ENV, PRETRAINED_MODELS, presenceOf, pretrainedModel, pullModelFiles, totalBytes, verifyModelFiles } from '../../model-files/index.js';
import { action } from '../program.js';
import { progressBar } from '../progress.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** `areyouacat models list|pull|verify`: the pretrained backbones, their files and where they are. */
export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('Pretrained backbones: list them, pull their files into the model cache, verify what is cached');
  models
    .command('list')
    .description('Every backbone the project knows: id, training data, licence, size, input, feature width, and whether its files are here')
    .option('--json', 'print JSON')
    .action(
      action(async (o: { json?: boolean }) => {
        const rows = [];
        for (const m of PRETRAINED_MODELS) {
          const { presence, dir } = await presenceOf(m);
          rows.push({ id: m.id, title: m.title, trainedOn: m.trainedOn, licence: m.licence, bytes: totalBytes(m), input: m.input, featureWidth: m.featureWidth, presence: presence === 'missing' ? 'to be downloaded' : presence, dir, source: m.publisher ?? 'the repository' });
        }
        if (o.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        for (const r of rows) {
          process.stdout.write(`${r.id}  (${r.presence}${r.dir ? `: ${r.dir}` : ''})\n`);
          process.stdout.write(`  ${r.title}\n  trained on: ${r.trainedOn}\n  licence: ${r.licence}\n  size: ${mb(r.bytes)}; input: ${r.input}; features: ${r.featureWidth}\n  from: ${r.source}\n`);
        }
        process.stdout.write(`\n${MODEL_MIRROR_ENV}: ${process.env[MODEL_MIRROR_ENV] || '(not set: files come from their publisher)'}\n`);
      }),
    );
  models
    .command('pull')
    .description(`Download a backbone's files into the data folder's model cache, checked against the SHA-256 pins in the source (from ${MODEL_MIRROR_ENV} when set)`)
    .argument('<id>', `one of: ${PRETRAINED_MODELS.map((m) => m.id).join(', ')}`)
    .option('--mirror <folder-or-url>', `take the files from this folder or http(s) prefix (default: ${MODEL_MIRROR_ENV}, else the publisher)`)
    .option('--force', 'download again even when the cache has them')
    .action(
      action(async (id: string, o: { mirror?: string; force?: boolean }) => {
        const model = pretrainedModel(id);
        if (model.vendored) {
          process.stdout.write(`${id} is part of the repository (models/${model.folder}/): nothing to pull\n`);
          return;
        }
        const bar = progressBar(`pull ${id}`);
        let dir: string;
        try {
          dir = await pullModelFiles(id, { mirror: o.mirror, force: o.force, onProgress: bar });
        } finally {
          bar.stop();
        }
        process.stdout.write(`${id}: ${model.files.length} files, ${mb(totalBytes(model))}, every SHA-256 verified, in ${dir}\n`);
      }),
    );
  models
    .command('verify')
    .description('Re-check the SHA-256 of every cached or vendored backbone file; exit 1 when any is missing or differs')
    .action(
      action(async () => {
        let bad = 0;
        for (const m of PRETRAINED_MODELS) {
          const r = await verifyModelFiles(m);
          if (!r.dir) process.stdout.write(`${m.id}: not here (areyouacat models pull ${m.id})\n`);
          else if (r.problems.length === 0) process.stdout.write(`${m.id}: ${m.files.length} files ok (${r.presence}, ${r.dir})\n`);
          else {
            bad++;
            process.stdout.write(`${m.id}: ${r.problems.length} of ${m.files.length} files bad in ${r.dir}:\n${r.problems.map((p) => `  ${p}`).join('\n')}\n  fix: areyouacat models pull ${m.id} --force\n`);
          }
        }
        return bad ? 1 : 0;
      }),
    );
}
