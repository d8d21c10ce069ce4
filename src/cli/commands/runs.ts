import { Command } from 'commander';
import { compareRuns } from '../../tracking/compare.js';
import { getRun, listRuns, readEpochs } from '../../tracking/runs.js';
import type { RunView } from '../../tracking/types.js';
import { action } from '../program.js';
import { formatDuration, formatNumber, formatTable, printListing } from '../output.js';

const HEADLINE = ['test_f1', 'test_precision', 'test_recall', 'f1', 'precision', 'recall', 'val_f1', 'val_loss', 'score'];

function headline(run: RunView): string {
  const keys = HEADLINE.filter((k) => k in run.metrics);
  const shown = (keys.length ? keys : Object.keys(run.metrics).sort()).slice(0, 3);
  return shown.map((k) => `${k}=${formatNumber(run.metrics[k])}`).join(' ');
}

function formatRun(run: RunView, epochs: number): string {
  const out: string[] = [];
  out.push(`run ${run.id}  "${run.name}"`);
  out.push(`status     ${run.effectiveStatus}${run.effectiveStatus === 'crashed' ? ` (process ${run.pid} is gone; run.json still says running)` : ''}`);
  if (run.error) out.push(`error      ${run.error.message}`);
  if (run.parentId) out.push(`parent     ${run.parentId}`);
  out.push(`started    ${run.startedAt}   ended ${run.endedAt ?? '-'}   duration ${formatDuration(run.durationMs)}`);
  out.push(`data set   ${run.dataset?.name ?? '-'}   manifest ${run.dataset?.manifestHash ?? '-'}`);
  out.push(`git        ${run.git.commit ?? '-'}${run.git.dirty ? ' (uncommitted changes)' : ''}`);
  out.push(`backend    ${run.backend ?? '-'}   host ${run.hostname} pid ${run.pid}`);
  out.push(`epochs     ${epochs}`);
  out.push(`dir        ${run.dir}`);
  const section = (title: string, obj: Record<string, unknown>) => {
    const keys = Object.keys(obj).sort();
    if (!keys.length) return;
    out.push('', title);
    for (const k of keys) out.push(`  ${k.padEnd(28)} ${formatNumber(obj[k])}`);
  };
  section('params', run.params);
  section('metrics', run.metrics);
  section('timings (ms)', run.timings);
  section('tags', run.tags);
  if (run.artifacts.length) {
    out.push('', 'artifacts');
    for (const a of run.artifacts) out.push(`  ${a.name.padEnd(28)} ${a.kind.padEnd(4)} ${a.bytes} bytes`);
  }
  return out.join('\n') + '\n';
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('Tracked training and tuning runs');

  runs
    .command('list')
    .description('List runs, newest first')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'show at most n runs', (v) => Number(v))
    .action(
      action(async (opts: { json?: boolean; limit?: number }) => {
        const { runs: all, broken } = await listRuns();
        const shown = all.slice().reverse().slice(0, opts.limit && opts.limit > 0 ? opts.limit : undefined);
        printListing({
          asJson: opts.json,
          json: () => ({ runs: shown, broken }),
          items: shown,
          empty: 'no runs yet',
          header: ['ID', 'NAME', 'STATUS', 'STARTED (UTC)', 'DURATION', 'DATA', 'PARENT', 'METRICS'],
          row: (r) => [r.id, r.name, r.effectiveStatus, r.startedAt.replace('T', ' ').slice(0, 19), formatDuration(r.durationMs), r.dataset?.name ?? '-', r.parentId ?? '-', headline(r)],
          skipped: broken.map((b) => `skipped damaged run ${b.id}: ${b.problem}`),
        });
      }),
    );

  runs
    .command('show <id>')
    .description('Show one run (a unique id prefix is enough)')
    .option('--json', 'print JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }) => {
        const run = await getRun(id);
        if (!run) throw new Error(`no run with id "${id}" (see: areyouacat runs list)`);
        const epochs = await readEpochs(run);
        if (opts.json) process.stdout.write(JSON.stringify({ ...run, epochs }, null, 2) + '\n');
        else process.stdout.write(formatRun(run, epochs.length));
      }),
    );

  runs
    .command('compare <ids...>')
    .description('Compare params and metrics of two or more runs')
    .option('--json', 'print JSON')
    .option('--all', 'also show params that are equal in all runs')
    .action(
      action(async (ids: string[], opts: { json?: boolean; all?: boolean }) => {
        const c = await compareRuns(ids);
        if (opts.json) {
          process.stdout.write(JSON.stringify(c, null, 2) + '\n');
          return;
        }
        const header = ['', ...c.runs.map((r) => r.id)];
        const rows: string[][] = [
          ['name', ...c.runs.map((r) => r.name)],
          ['status', ...c.runs.map((r) => r.status)],
          ['data', ...c.runs.map((r) => `${r.dataset ?? '-'} ${r.manifestHash?.slice(0, 12) ?? ''}`.trim())],
          ['duration', ...c.runs.map((r) => formatDuration(r.durationMs))],
        ];
        const params = c.params.filter((p) => opts.all || p.differs);
        if (params.length) rows.push(['params', ...c.runs.map(() => '')]);
        for (const p of params) rows.push([`  ${p.key}${p.differs ? ' *' : ''}`, ...p.values.map(formatNumber)]);
        if (c.metrics.length) rows.push(['metrics', ...c.runs.map(() => '')]);
        for (const m of c.metrics) rows.push([`  ${m.key}${m.differs ? ' *' : ''}`, ...m.values.map(formatNumber)]);
        process.stdout.write(formatTable(header, rows));
        const same = c.params.length - c.params.filter((p) => p.differs).length;
        if (!opts.all && same) process.stdout.write(`(${same} params equal in all runs hidden; --all shows them; * marks differences)\n`);
        if (!c.sameData) process.stdout.write('note: the runs used different data (manifest hashes differ); their metrics are not directly comparable\n');
      }),
    );
}
