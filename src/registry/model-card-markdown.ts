import type { ModelCard } from './types.js';
import { INTENDED_USE } from './model-card.js';

/** The file written next to a registered model's files. */
export const MODEL_CARD_FILE = 'MODEL_CARD.md';

const num = (x: number | null | undefined) => (x === null || x === undefined ? '–' : String(Math.round(x * 1000) / 1000));
const cell = (s: string) => s.replace(/\|/g, '\\|');

/** MODEL_CARD.md of a version: from its card, with the details when it was registered from a training run. */
export function renderModelCardMarkdown(card: ModelCard): string {
  const d = card.details;
  const lines: string[] = [`# Model card: areyouacat v${card.version}`, ''];
  lines.push(`Registered ${card.createdAt}${card.runId ? ` from training run \`${card.runId}\`` : ''}; input ${card.imageSize} x ${card.imageSize} RGB.`, '');
  lines.push('## Intended use', '', d?.intendedUse ?? INTENDED_USE, '');
  if (d?.limitations.length) lines.push(...d.limitations.map((l) => `- ${l}`), '');

  lines.push('## Training data', '');
  lines.push(`Data set: \`${card.dataset.name ?? 'unnamed'}\` (manifest ${card.dataset.manifestHash.slice(0, 12)}).${d?.training.backbone ? ` Backbone: ${d.training.backbone}${d.training.backboneView ? ` (view ${d.training.backboneView})` : ''}.` : ''}`, '');
  if (d) {
    lines.push('| source | licence |', '|---|---|', ...d.training.sources.map((s) => `| ${cell(s.name)} | ${cell(s.licence)} |`), '');
  } else {
    lines.push('Sources and licences: not recorded (registered without a training run); see the README\'s Licences.', '');
  }

  lines.push('## Evaluation', '');
  const m = card.metrics;
  lines.push(`On the test split at the threshold: precision ${num(m.precision)}, recall ${num(m.recall)}, F1 ${num(m.f1)}, accuracy ${num(m.accuracy)}, ROC AUC ${num(m.rocAuc)}, PR AUC ${num(m.prAuc)}.`, '');
  if (d) {
    lines.push(`Per group (${d.evaluation.split} split, ${d.evaluation.n} photos, ${d.evaluation.positives} cats):`, '');
    if (d.evaluation.perGroup.length) {
      lines.push('| group | photos | cats | recall | precision | called cat |', '|---|---:|---:|---:|---:|---:|');
      for (const g of d.evaluation.perGroup) lines.push(`| ${cell(g.group)} | ${g.n} | ${g.positives} | ${num(g.recall)} | ${num(g.precision)} | ${num(g.positiveRate)} |`);
    } else lines.push('No per-group slices (the test split had no group labels).');
    lines.push('');
    if (d.evaluation.perSource?.length) {
      lines.push('Per source:', '', '| source | photos | accuracy |', '|---|---:|---:|');
      for (const s of d.evaluation.perSource) lines.push(`| ${cell(s.source)} | ${s.n} | ${num(s.accuracy)} |`);
      lines.push('');
    } else lines.push('Per source: not available (the evaluation report has no per-source slices).', '');
  } else lines.push('Per group and per source: not available (registered without an evaluation report).', '');

  lines.push('## Known failure modes', '');
  lines.push(...(d ? d.failureModes.map((f) => `- ${f}`) : ['- not recorded (registered without an evaluation report)']), '');

  lines.push('## Threshold', '');
  lines.push(`p(cat) >= ${num(card.threshold)} is a cat (strategy \`${card.thresholdStrategy}\`).`);
  if (d) {
    lines.push(`Chosen as ${d.threshold.how}: precision ${num(d.threshold.precision)}, recall ${num(d.threshold.recall)} there.`);
    if (d.threshold.warning) lines.push(`Warning: ${d.threshold.warning}`);
  }
  lines.push('');
  return lines.join('\n');
}
