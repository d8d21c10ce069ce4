import type { ServerResponse } from 'node:http';
import { sendJson } from './http-errors.js';
import { buildMonitoringReport } from '../monitoring/report.js';
import { monitoringPageData, type MonitoringPageData } from '../site/monitoring.js';
import { paths } from '../storage/paths.js';
import type { ServingHistoryView } from '../monitoring/serving-history.js';

/**
 * `GET /api/monitoring`: what the site's monitoring page shows, built now: the report `areyouacat monitor` builds
 * (not saved), with the daily and hourly summaries of the logs, and the server's counters minute by minute.
 * Building the report reads the logs and the training reference, so it is cached for `MONITORING_CACHE_MS` (concurrent
 * requests share one build); the counters' history is read at every request.
 */
export const MONITORING_CACHE_MS = 10_000;

const cache = new Map<string, { at: number; data: Promise<MonitoringPageData> }>();

export async function liveMonitoringData(now = Date.now()): Promise<MonitoringPageData> {
  const key = paths.monitoring();
  const hit = cache.get(key);
  if (hit && now - hit.at < MONITORING_CACHE_MS) return hit.data;
  const data = buildMonitoringReport({ save: false }).then(({ report }) => monitoringPageData(90, { report }));
  cache.set(key, { at: now, data });
  data.catch(() => cache.delete(key));
  return data;
}

export async function monitoringRoute(res: ServerResponse, servingHistory?: () => ServingHistoryView): Promise<void> {
  const data = await liveMonitoringData();
  sendJson(res, 200, servingHistory ? { ...data, servingHistory: servingHistory() } : data);
}
