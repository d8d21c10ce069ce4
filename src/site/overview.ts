import { runsListData, type RunSummary } from './runs.js';
import { registryPageData, type RegistryPageData } from './registry.js';

export interface OverviewPageData {
  promoted: RegistryPageData['promoted'];
  latestRuns: RunSummary[];
  totalRuns: number;
  latestDecisions: RegistryPageData['decisions'];
}

/** The promoted model's card, the latest runs and the latest gate decisions. */
export async function overviewPageData(limit = 10): Promise<OverviewPageData> {
  const [{ runs }, registry] = await Promise.all([runsListData(), registryPageData()]);
  return {
    promoted: registry.promoted,
    latestRuns: runs.filter((r) => r.kind !== 'trial').slice(0, limit),
    totalRuns: runs.length,
    latestDecisions: registry.decisions.slice(0, limit),
  };
}
