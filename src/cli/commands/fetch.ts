import { Command } from 'commander';
import { fetchDataset } from '../../data/fetch/fetch.js';
import { RECIPES, getRecipe } from '../../data/fetch/recipes.js';
import { action } from '../program.js';
import { progressBar } from '../progress.js';
import { dataCommand } from './data.js';

function listRecipes(): string {
  return RECIPES.map((r) => `  ${r.name.padEnd(18)}${r.title}\n  ${''.padEnd(18)}${r.url}`).join('\n');
}

/** `areyouacat data fetch <recipe>`: download a public data set into the <group>/<file> layout. */
export function registerFetchCommands(program: Command): void {
  dataCommand(program)
    .command('fetch')
    .description('Download a public data set (needs internet) into <data>/datasets/<recipe>/raw; without a recipe, list them')
    .argument('[recipe]', `one of: ${RECIPES.map((r) => r.name).join(', ')}`)
    .option('--url <url>', 'download from this mirror instead of the official host')
    .option('--sha256 <hex>', 'expected sha256 of the download (overrides the recipe)')
    .option('--force', 'fetch and unpack again even when the data set is there')
    .option('--no-keep-archive', 'delete the downloaded archive after unpacking')
    .action(
      action(async (name: string | undefined, o: { url?: string; sha256?: string; force?: boolean; keepArchive: boolean }) => {
        if (!name) {
          process.stdout.write(`recipes:\n${listRecipes()}\n`);
          return;
        }
        const recipe = getRecipe(name);
        if (o.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(o.sha256)) {
          throw new Error(`--sha256 must be 64 hex characters, got "${o.sha256}"`);
        }
        const bar = progressBar(`fetch ${recipe.name}`);
        let r;
        try {
          r = await fetchDataset(recipe, { url: o.url, sha256: o.sha256, force: o.force, keepArchive: o.keepArchive, onProgress: bar });
        } finally {
          bar.stop();
        }
        const counts = Object.entries(r.groups).map(([g, n]) => `${g} ${n}`).join(', ');
        process.stdout.write(`${r.alreadyThere ? 'already fetched' : 'fetched'} ${recipe.name}: ${r.files} files (${counts}) in ${r.dir}\n`);
        process.stdout.write(`archive ${r.archive}: ${r.bytes} bytes, sha256 ${r.sha256}\n`);
        if (r.verifiedWith.length) process.stdout.write(`verified with: ${r.verifiedWith.join(', ')}\n`);
        else process.stdout.write('no checksum was pinned for this download: the sha256 above is recorded in fetch.json and checked next time\n');
        process.stdout.write(`next: areyouacat data ingest --data ${r.dir} --name ${recipe.name}\n`);
      }),
    );
}
