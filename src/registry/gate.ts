import type { GateCheck, GateResult, ModelCard, PrimaryMetric, PromotionPolicy } from './types.js';

export const DEFAULT_POLICY: PromotionPolicy = {
  minPrecision: 0.85,
  minRecall: 0.8,
  primaryMetric: 'f1',
  tolerance: 0.01,
  onDifferentTestSet: 'reject',
  baseline: 'must-beat',
};

const PRIMARY: PrimaryMetric[] = ['f1', 'prAuc', 'rocAuc', 'precision', 'recall', 'accuracy'];

/** Fill a partial policy from the defaults and check its values. */
export function resolvePolicy(p: Partial<PromotionPolicy> = {}): PromotionPolicy {
  const policy = { ...DEFAULT_POLICY, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) };
  for (const key of ['minPrecision', 'minRecall', 'tolerance'] as const) {
    const v = policy[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`promotion policy: ${key} must be a number in [0, 1], got ${v}`);
  }
  if (!PRIMARY.includes(policy.primaryMetric)) throw new Error(`promotion policy: primaryMetric must be one of ${PRIMARY.join(', ')}, got ${policy.primaryMetric}`);
  if (policy.baseline !== 'must-beat' && policy.baseline !== 'ignore') throw new Error(`promotion policy: baseline must be must-beat or ignore, got ${policy.baseline}`);
  if (policy.onDifferentTestSet !== 'reject' && policy.onDifferentTestSet !== 'ignore-champion') {
    throw new Error(`promotion policy: onDifferentTestSet must be reject or ignore-champion, got ${policy.onDifferentTestSet}`);
  }
  return policy;
}

const fmt = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');

function minimum(name: 'precision' | 'recall', card: ModelCard, min: number): GateCheck {
  const v = card.metrics[name];
  const passed = typeof v === 'number' && v >= min;
  return { name: `min ${name}`, passed, detail: `v${card.version} ${name} ${fmt(v)} ${passed ? '>=' : 'is below'} minimum ${min}` };
}

/**
 * The promotion gate, a pure function. The candidate is promoted only when its precision and recall on the test
 * split meet the minimums, it beats the zero-shot baseline measured on the same photos (when its card has one) and
 * it is not worse than the champion: candidate[primary] >= champion[primary] - tolerance,
 * measured on the same test set (same manifest hash). With a different test set the comparison means nothing:
 * policy.onDifferentTestSet decides whether that rejects or the champion is ignored.
 */
export function decidePromotion(candidate: ModelCard, champion: ModelCard | null, policyIn: Partial<PromotionPolicy> = {}): GateResult {
  const policy = resolvePolicy(policyIn);
  const checks: GateCheck[] = [minimum('precision', candidate, policy.minPrecision), minimum('recall', candidate, policy.minRecall)];
  const m = policy.primaryMetric;
  const baseline = candidate.metrics[`baseline.${m}`];
  if (typeof baseline === 'number' && policy.baseline === 'must-beat') {
    // A simple model comparison: a trained model that does not beat the untrained classifier has no reason to exist.
    const c = candidate.metrics[m];
    const passed = typeof c === 'number' && c > baseline;
    checks.push({ name: `beats the zero-shot baseline on ${m}`, passed, detail: `${m} ${fmt(c)} vs zero-shot baseline ${fmt(baseline)}: ${passed ? 'better' : 'not better'}` });
  }
  if (!champion) {
    checks.push({ name: 'champion', passed: true, detail: 'no model is promoted yet' });
  } else if (champion.dataset.manifestHash !== candidate.dataset.manifestHash) {
    const detail = `champion v${champion.version} was tested on data set ${champion.dataset.manifestHash.slice(0, 12)}, candidate v${candidate.version} on ${candidate.dataset.manifestHash.slice(0, 12)}: not comparable`;
    const ignore = policy.onDifferentTestSet === 'ignore-champion';
    checks.push({ name: 'same test set', passed: ignore, detail: ignore ? `${detail}; policy ignores the champion` : `${detail}; evaluate both on the same test set` });
  } else {
    const c = candidate.metrics[m];
    const ch = champion.metrics[m];
    let passed: boolean;
    let detail: string;
    if (typeof c !== 'number') {
      passed = false;
      detail = `candidate v${candidate.version} has no ${m}`;
    } else if (typeof ch !== 'number') {
      passed = true;
      detail = `champion v${champion.version} has no ${m}; candidate ${fmt(c)}`;
    } else {
      passed = c >= ch - policy.tolerance;
      detail = `${m} ${fmt(c)} vs champion v${champion.version} ${fmt(ch)} (tolerance ${policy.tolerance}): ${passed ? 'not worse' : 'worse'}`;
    }
    checks.push({ name: `not worse than champion on ${m}`, passed, detail });
  }
  const promote = checks.every((c) => c.passed);
  return { promote, checks, reasons: (promote ? checks : checks.filter((c) => !c.passed)).map((c) => c.detail) };
}
