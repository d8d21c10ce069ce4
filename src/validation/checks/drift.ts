import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus } from '../types.js';
import { PROPERTY_NAMES } from '../types.js';
import { ksTest } from '../../stats/ks-test.js';
import { psi } from '../../stats/psi.js';
import { round } from '../../stats/round.js';

/** Distribution shift of each property from train to val and test: KS statistic and population stability index. */
export function driftCheck(ctx: CheckContext): CheckResult {
  const cfg = ctx.config.drift;
  const bySplit = new Map<string, typeof ctx.measured>();
  for (const m of ctx.measured) bySplit.set(m.split, [...(bySplit.get(m.split) ?? []), m]);
  const train = bySplit.get('train');
  const others = ['val', 'test'].filter((s) => bySplit.get(s)?.length);
  if (!train?.length || others.length === 0) {
    return {
      id: 'property-drift',
      title: 'Train vs val/test property drift',
      status: 'pass',
      summary: 'no train and val/test splits assigned yet: drift not measured',
      evidence: { rows: [], thresholds: cfg },
    };
  }
  const rows = [];
  for (const split of others) {
    const target = bySplit.get(split)!;
    for (const property of PROPERTY_NAMES) {
      const a = train.map((m) => m.props[property]);
      const b = target.map((m) => m.props[property]);
      const ks = ksTest(a, b);
      // At least ~10 images per bin, so small splits get fewer, steadier bins.
      const bins = Math.max(2, Math.min(cfg.bins, Math.floor(Math.min(a.length, b.length) / 10)));
      const p = psi(a, b, bins);
      // A shift only counts when the KS test says it is unlikely to be sampling noise.
      const significant = ks.pValue < cfg.maxPValue;
      const status: CheckStatus = !significant
        ? 'pass'
        : p > cfg.psiFail || ks.statistic > cfg.ksFail ? 'fail' : p > cfg.psiWarn || ks.statistic > cfg.ksWarn ? 'warn' : 'pass';
      rows.push({ reference: 'train', split, property, ks: round(ks.statistic), pValue: Number(ks.pValue.toPrecision(3)), psi: round(p), bins, status, n: [a.length, b.length] });
    }
  }
  const bad = rows.filter((r) => r.status !== 'pass').sort((x, y) => y.psi - x.psi);
  const status: CheckStatus = bad.some((r) => r.status === 'fail') ? 'fail' : bad.length ? 'warn' : 'pass';
  const worst = [...rows].sort((x, y) => y.ks - x.ks)[0];
  const summary = bad.length
    ? `${bad.length} property shifts: ${bad.slice(0, 4).map((r) => `${r.property} train->${r.split} KS ${r.ks} PSI ${r.psi}`).join(', ')}`
    : `no property drifts from train to ${others.join('/')} (largest KS ${worst.ks} for ${worst.property} in ${worst.split}; thresholds KS ${cfg.ksWarn}, PSI ${cfg.psiWarn})`;
  return { id: 'property-drift', title: 'Train vs val/test property drift', status, summary, evidence: { rows, thresholds: cfg } };
}
