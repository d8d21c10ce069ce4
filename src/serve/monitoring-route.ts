import type { ServerResponse } from 'node:http';
import { sendJson } from './http-errors.js';
import { buildMonitoringReport } from '../monitoring/report.js';
import type { PromSample } from '../monitoring/prometheus-text.js';
import { monitoringPageData, type MonitoringPageData } from '../site/monitoring.js';
import { paths } from '../storage/paths.js';
import type { ServingHistoryView } from '../monitoring/serving-history.js';

/**
 * `GET /api/monitoring`: what the site's monitoring page shows, built now: the report `areyouacat monitor` builds
 * (not saved), with the daily and hourly summaries of the logs, and the server's counters minute by minute.
 * The report's serving numbers are the server's own counters (what its /metrics says), read without a request.
 * Building the report reads the logs and the training reference, so it is cached for `MONITORING_CACHE_MS` (concurrent
 * requests share one build); the counters' history is read at every request.
 */
export const MONITORING_CACHE_MS = 10_000;

export interface MonitoringSources {
  /** The server's metrics now, as its /metrics would give them. */
  metrics: () => PromSample[];
  /** The serving counters minute by minute, up to now. */
  servingHistory?: () => ServingHistoryView;
}

/** The route of one server: its report cache is its own (a report holds that server's counters). */
export function monitoringRoute(sources: MonitoringSources): (res: ServerResponse) => Promise<void> {
  const cache = new Map<string, { at: number; data: Promise<MonitoringPageData> }>();
  const liveData = (now = Date.now()): Promise<MonitoringPageData> => {
    const key = paths.monitoring();
    const hit = cache.get(key);
    if (hit && now - hit.at < MONITORING_CACHE_MS) return hit.data;
    const data = buildMonitoringReport({ save: false, metrics: sources.metrics }).then(({ report }) => monitoringPageData(90, { report }));
    cache.set(key, { at: now, data });
    data.catch(() => cache.delete(key));
    return data;
  };
  return async (res) => {
    const data = await liveData();
    sendJson(res, 200, sources.servingHistory ? { ...data, servingHistory: sources.servingHistory() } : data);
  };
}
