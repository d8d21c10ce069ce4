import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus } from '../types.js';
import { pct, splitOf, UNSPLIT } from '../context.js';
import { round } from '../../stats/round.js';

/** Share of each group among accepted images, overall and per split, against the configured mix. */
export function balanceCheck(ctx: CheckContext): CheckResult {
  const cfg = ctx.config.balance;
  const mixTotal = Object.values(ctx.config.mix).reduce((a, b) => a + b, 0);
  const target = Object.fromEntries(Object.entries(ctx.config.mix).map(([g, s]) => [g, s / mixTotal]));
  // When splits are assigned, the mix applies to the images selected into them; otherwise to all accepted ones.
  const ok = ctx.entries.filter((e) => e.status === 'ok');
  const accepted = ok.some((e) => e.split) ? ok.filter((e) => e.split) : ok;
  const splits = [...new Set(accepted.map(splitOf))].sort();
  const groups = [...new Set([...Object.keys(target), ...accepted.map((e) => e.group)])].sort();
  const rows: Array<{ split: string; group: string; count: number; share: number; target: number; deviation: number; status: CheckStatus }> = [];
  const labelShare: Record<string, number> = {};
  const scopes = ['all', ...splits.filter((s) => s !== UNSPLIT)];
  for (const scope of scopes) {
    const inScope = scope === 'all' ? accepted : accepted.filter((e) => splitOf(e) === scope);
    labelShare[scope] = inScope.length ? round(inScope.filter((e) => e.label === 1).length / inScope.length) : 0;
    for (const group of groups) {
      const count = inScope.filter((e) => e.group === group).length;
      const share = inScope.length ? count / inScope.length : 0;
      const t = target[group] ?? 0;
      const deviation = share - t;
      const missing = t > 0 && count === 0;
      const status: CheckStatus = missing || Math.abs(deviation) > cfg.failDeviation ? 'fail' : Math.abs(deviation) > cfg.warnDeviation ? 'warn' : 'pass';
      rows.push({ split: scope, group, count, share: round(share), target: round(t), deviation: round(deviation), status });
    }
  }
  const bad = rows.filter((r) => r.status !== 'pass').sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation));
  const status: CheckStatus = accepted.length === 0 ? 'fail' : bad.some((r) => r.status === 'fail') ? 'fail' : bad.length ? 'warn' : 'pass';
  const overall = rows.filter((r) => r.split === 'all').map((r) => `${r.group} ${pct(r.share)}`).join(', ');
  const summary = accepted.length === 0
    ? 'no accepted images'
    : bad.length
      ? `${bad.length} group shares off the mix, worst ${bad[0].group} in ${bad[0].split}: ${pct(bad[0].share)} vs ${pct(bad[0].target)} target (overall ${overall})`
      : `every group within ${pct(cfg.warnDeviation)} of the mix in every split (overall ${overall})`;
  return { id: 'group-balance', title: 'Group and label balance', status, summary, evidence: { target, rows, labelShare, accepted: ok.length, selected: accepted.length, thresholds: cfg } };
}
