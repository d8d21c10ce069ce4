import path from 'node:path';
import { Command } from 'commander';
import { ingestDataset, loadDatasetSummary, type IngestSummary } from '../../data/ingest.js';
import { parseMix } from '../../data/mix.js';
import { parseGroupMap } from '../../data/sources/index.js';
import type { Split } from '../../data/types.js';
import { action } from '../program.js';
import { progressBar } from '../progress.js';

/** The `data` command group; other modules add subcommands to it (`dataCommand(program).command('validate')`). */
export function dataCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'data') ?? program.command('data').description('Ingest, prepare and inspect data sets');
}

function intOption(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

function parseFractions(v: string): Record<Split, number> {
  const parts = v.split(',').map(Number);
  if (parts.length !== 3 || parts.some((x) => !(x >= 0))) throw new Error(`--split expects train,val,test fractions, got "${v}"`);
  return { train: parts[0], val: parts[1], test: parts[2] };
}

export function formatSummary(s: IngestSummary): string {
  const lines = [`data set "${s.name}" from ${s.source} (${s.size}x${s.size}, seed ${s.seed})`];
  lines.push(`files ${s.files}: accepted ${s.accepted}, rejected ${s.rejected}; selected ${s.selected} for the mix`);
  for (const [reason, n] of Object.entries(s.rejectedByReason)) lines.push(`  rejected: ${reason} x${n}`);
  const groups = Object.keys(s.perGroup).sort();
  lines.push(`group     files  ok     train  val    test`);
  for (const g of groups) {
    const p = s.perGroup[g];
    const cell = (x: number | undefined) => String(x ?? 0).padEnd(7);
    lines.push(`${g.padEnd(10)}${cell(p.files)}${cell(p.accepted)}${cell(s.splits.train[g])}${cell(s.splits.val[g])}${cell(s.splits.test[g])}`);
  }
  if (s.outsideMix) lines.push(`${s.outsideMix} accepted images belong to groups outside the mix (not used)`);
  const d = s.duplicates;
  lines.push(`duplicates: ${d.multiImageClusters} clusters of copies (largest ${d.largestCluster}; ${d.exactPairs} exact, ${d.nearPairs} near pairs at dHash <= ${d.nearDupDistance}), each kept in one split`);
  const up = Object.entries(s.upscaled);
  if (up.length) lines.push(`enlarged to ${s.size}px (smaller source): ${up.map(([g, n]) => `${g} ${n}`).join(', ')}`);
  lines.push(`cache: prepared ${s.cache.preparedHit ? 'hit' : 'miss'}, ${s.cache.manifestReused} checks reused; ` +
    `time ${s.timingsMs.total} ms (manifest ${s.timingsMs.manifest}, split ${s.timingsMs.split}, prepare ${s.timingsMs.prepare})`);
  return lines.join('\n');
}

export function registerDataCommands(program: Command): void {
  const data = dataCommand(program);
  data
    .command('ingest')
    .description('Check, sample, split and prepare a data set; writes manifest.csv, split.json, summary.json')
    .requiredOption('--data <spec>', 'data source: a folder of <group>/<image> files')
    .option('--name <name>', 'data set name (default: the folder name)')
    .option('--size <px>', 'side of the square prepared images', intOption('size', 8), 64)
    .option('--mix <mix>', 'group mix, e.g. cat=0.25,dog=0.25,selfie=0.25,misc=0.25')
    .option('--n <count>', 'total sample size (default: the largest that keeps the mix)', intOption('n', 1))
    .option('--seed <seed>', 'seed for sampling and splitting', '1')
    .option('--split <fractions>', 'train,val,test fractions', '0.7,0.15,0.15')
    .option('--near-dup <bits>', 'dHash distance at or below which photos count as copies (-1: off)', intOption('near-dup', -1), 6)
    .option('--groups <map>', 'folder=group renames, e.g. kittens=cat,puppies=dog')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (o: {
        data: string; name?: string; size: number; mix?: string; n?: number; seed: string; split: string;
        nearDup: number; groups?: string; json?: boolean;
      }) => {
        const name = o.name ?? (path.basename(path.resolve(o.data.replace(/^folder:/, ''))).replace(/[^A-Za-z0-9._-]/g, '-') || 'default');
        const bar = progressBar('ingest');
        let result;
        try {
          result = await ingestDataset({
            spec: o.data, name, size: o.size, mix: o.mix ? parseMix(o.mix) : undefined, n: o.n, seed: o.seed,
            splitFractions: parseFractions(o.split), nearDupDistance: o.nearDup,
            groups: o.groups ? parseGroupMap(o.groups) : undefined, onProgress: bar,
          });
        } finally {
          bar.stop();
        }
        process.stdout.write(o.json ? JSON.stringify(result.summary, null, 2) + '\n' : formatSummary(result.summary) + '\n');
      }),
    );
  data
    .command('summary')
    .description('Print the summary of an ingested data set')
    .requiredOption('--name <name>', 'data set name')
    .option('--json', 'print JSON')
    .action(
      action(async (o: { name: string; json?: boolean }) => {
        const s = await loadDatasetSummary(o.name);
        process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s) + '\n');
      }),
    );
}
