import { listVersions, readDecisions, readPromoted, readPromotedPointer } from '../registry/registry.js';
import type { Decision, ModelCard } from '../registry/types.js';
import { trainingDataSummary, type TrainingDataSummary } from '../registry/training-data.js';
import { metricLabels } from '../evaluation/metric-labels.js';

export interface RegistryPageData {
  promoted: { version: number; card: ModelCard; promotedAt: string | null; decision: Decision | null; trainedOn: TrainingDataSummary; metricLabels: Record<string, string> } | null;
  /** Newest first. */
  versions: ModelCard[];
  /** What each version was trained on, in words, by version number. */
  trainedOn: Record<number, TrainingDataSummary>;
  /** Every metric key of the versions' cards in words (`rocAuc`: "ROC AUC"). */
  metricLabels: Record<string, string>;
  broken: { version: number; problem: string }[];
  /** Newest first. */
  decisions: Decision[];
}

/** Versions, the promoted one with when and why it was promoted, and every decision. */
export async function registryPageData(): Promise<RegistryPageData> {
  const [promotedModel, listed, decisionsOldestFirst] = await Promise.all([readPromoted(), listVersions(), readDecisions()]);
  const decisions = [...decisionsOldestFirst].reverse();
  let promoted: RegistryPageData['promoted'] = null;
  if (promotedModel) {
    // promoted.json records when and by which decision the pointer was set.
    const pointer = readPromotedPointer();
    const decision =
      decisions.find((d) => pointer && d.id === pointer.decisionId) ??
      decisions.find((d) => d.promoted === promotedModel.version && d.action !== 'reject') ??
      null;
    promoted = {
      version: promotedModel.version,
      card: promotedModel.card,
      promotedAt: pointer?.promotedAt ?? decision?.time ?? null,
      decision,
      trainedOn: trainingDataSummary(promotedModel.card),
      metricLabels: metricLabels(promotedModel.card.metrics),
    };
  }
  const versions = listed.versions.map((v) => v.card).sort((a, b) => b.version - a.version);
  return {
    promoted,
    versions,
    trainedOn: Object.fromEntries(versions.map((c) => [c.version, trainingDataSummary(c)])),
    metricLabels: metricLabels(...versions.map((c) => c.metrics)),
    broken: listed.broken,
    decisions,
  };
}
