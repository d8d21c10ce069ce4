import type { Command } from 'commander';
import { action } from '../program.js';
import { progressBar } from '../progress.js';
import { buildMonitoringReport } from '../../monitoring/report.js';
import type { MonitoringReport } from '../../monitoring/types.js';

function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined ? '-' : String(Number(x.toFixed(digits)));
}

function printReport(r: MonitoringReport, file: string | null): void {
  const out: string[] = [];
  out.push(`model: ${r.model ? `v${r.model.version} (threshold ${r.model.threshold}, data set ${r.model.dataset ?? '-'})` : 'none promoted'}`);
  out.push(`window: ${r.window.days} days since ${r.window.sinceDay}`);
  const d = r.drift;
  out.push(`drift [${d.status}]: ${d.reason ?? `${d.n} inputs vs ${d.reference?.n} train images of ${d.reference?.dataset}`}`);
  for (const row of d.rows.filter((x) => x.status !== 'ok')) {
    out.push(`  ${row.property}: KS ${row.ks} PSI ${row.psi} median ${row.referenceMedian} -> ${row.currentMedian} [${row.status}]`);
  }
  const p = r.predictions;
  out.push(`predictions [${p.status}]: n ${p.n}, cats ${fmt(p.positiveRate)}, mean p ${fmt(p.meanProbability)}, PSI ${fmt(p.psi)}${p.reason ? ` (${p.reason})` : ''}`);
  const f = r.feedback;
  out.push(`feedback [${f.status}]: n ${f.n}, precision ${fmt(f.precision)}, recall ${fmt(f.recall)}${f.reason ? ` (${f.reason})` : ''}`);
  const s = r.serving;
  out.push(
    `serving [${s.status}]: ${s.reason ?? `${s.requests} requests, 5xx rate ${fmt(s.errorRate, 4)}, ${s.refused ?? 0} refused (429/503), answered predictions p50 ${fmt(s.p50Ms, 1)} ms, p95 ${fmt(s.p95Ms, 1)} ms (${s.source} at ${s.at})`}`,
  );
  for (const a of r.warnings) out.push(`WARNING ${a.id}: ${a.message}`);
  for (const a of r.alerts) out.push(`ALERT ${a.id}: ${a.message}`);
  out.push(r.alerts.length ? `${r.alerts.length} alert(s)` : 'no alerts');
  if (file) out.push(`report: ${file}`);
  process.stdout.write(out.join('\n') + '\n');
}

export function registerMonitorCommands(program: Command): void {
  program
    .command('monitor')
    .description('Check drift, prediction shift, real-world precision/recall and serving health; exit 1 on alerts')
    .option('--url <url>', 'scrape /metrics of this running server (default: the snapshot the server writes)')
    .option('--days <days>', 'days of logs to look at', (v) => Number(v))
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { url?: string; days?: number; json?: boolean }) => {
        if (opts.days !== undefined && !(Number.isInteger(opts.days) && opts.days >= 1)) {
          throw new Error('--days must be a whole number >= 1');
        }
        const bar = opts.json ? null : progressBar('reference');
        const { report, file } = await buildMonitoringReport({
          url: opts.url,
          thresholds: opts.days ? { windowDays: opts.days } : {},
          onProgress: bar ?? undefined,
        });
        bar?.stop();
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printReport(report, file);
        return report.alerts.length > 0 ? 1 : 0;
      }),
    );
}
