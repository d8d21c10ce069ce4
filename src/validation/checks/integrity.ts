import type { CheckContext } from '../context.js';
import type { CheckResult } from '../types.js';
import { pct } from '../context.js';

interface Problem {
  path: string;
  group: string;
  split: string;
  problem: 'unreadable' | 'tiny' | 'extreme-aspect' | 'near-constant';
  detail: string;
}

/** Rejected files by reason, formats, and accepted images that are unreadable, tiny, oddly shaped or blank. */
export function integrityCheck(ctx: CheckContext): CheckResult {
  const cfg = ctx.config.integrity;
  const total = ctx.entries.length;
  const rejected = ctx.entries.filter((e) => e.status === 'rejected');
  const accepted = total - rejected.length;
  const byReason = new Map<string, { count: number; examples: string[] }>();
  for (const e of rejected) {
    // Group "too small: 10x12 (min side 16)" and the like by the text before the colon.
    const key = (e.reason || 'no reason given').split(':')[0];
    const r = byReason.get(key) ?? { count: 0, examples: [] };
    r.count++;
    if (r.examples.length < 5) r.examples.push(`${e.path} (${e.reason})`);
    byReason.set(key, r);
  }
  const formats: Record<string, number> = {};
  for (const e of ctx.entries) formats[e.format || 'unknown'] = (formats[e.format || 'unknown'] ?? 0) + 1;

  const problems: Problem[] = ctx.unreadable.map((u) => ({ ...u, problem: 'unreadable' as const, detail: u.error }));
  for (const m of ctx.measured) {
    const p = m.props;
    const base = { path: m.path, group: m.group, split: m.split };
    if (Math.min(p.width, p.height) < cfg.minSide) problems.push({ ...base, problem: 'tiny', detail: `${p.width}x${p.height}` });
    const ratio = Math.max(p.width / p.height, p.height / p.width);
    if (ratio > cfg.maxAspect) problems.push({ ...base, problem: 'extreme-aspect', detail: `${p.width}x${p.height} (${ratio.toFixed(1)}:1)` });
    if (p.contrast < cfg.minContrast) problems.push({ ...base, problem: 'near-constant', detail: `grey std ${p.contrast.toFixed(2)}` });
  }
  const problemImages = new Set(problems.map((p) => p.path)).size;
  const problemFraction = accepted ? problemImages / accepted : 0;
  const rejectedFraction = total ? rejected.length / total : 0;
  const counts = { unreadable: 0, tiny: 0, 'extreme-aspect': 0, 'near-constant': 0 };
  for (const p of problems) counts[p.problem]++;

  const status =
    accepted === 0 || problemFraction > cfg.failProblemFraction || rejectedFraction > cfg.failRejectedFraction
      ? 'fail'
      : problems.length > 0 || rejected.length > 0
        ? 'warn'
        : 'pass';
  const parts = [
    `${accepted}/${total} files accepted`,
    rejected.length ? `${rejected.length} rejected (${[...byReason].map(([k, v]) => `${k}: ${v.count}`).join(', ')})` : '',
    problems.length
      ? `${problemImages} accepted images with problems (${Object.entries(counts).filter(([, c]) => c).map(([k, c]) => `${c} ${k}`).join(', ')}; ${pct(problemFraction)}, fail above ${pct(cfg.failProblemFraction)})`
      : 'no unreadable, tiny, extreme-aspect or near-constant accepted images',
  ].filter(Boolean);
  return {
    id: 'integrity',
    title: 'Data integrity',
    status,
    summary: parts.join('; '),
    evidence: {
      total,
      accepted,
      rejected: rejected.length,
      rejectedByReason: [...byReason].map(([reason, r]) => ({ reason, ...r })).sort((a, b) => b.count - a.count),
      formats,
      problemCounts: counts,
      problemFraction,
      problems: problems.slice(0, 200),
      thresholds: cfg,
    },
  };
}
