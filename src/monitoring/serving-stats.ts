import fs from 'node:fs/promises';
import path from 'node:path';
import type { MetricSnapshot } from './prometheus-registry.js';
import { METRIC } from './metric-names.js';
import { histogramQuantile, parsePrometheusText, type CumulativeBucket, type PromSample } from './prometheus-text.js';

/** Samples of a metrics snapshot, as a Prometheus scrape of the same registry would give them. */
export function samplesFromSnapshot(metrics: MetricSnapshot[]): PromSample[] {
  const out: PromSample[] = [];
  for (const m of metrics) {
    for (const s of m.series) {
      if (m.kind !== 'histogram') {
        out.push({ name: m.name, labels: s.labels, value: s.value ?? 0 });
        continue;
      }
      const h = s.histogram!;
      let cumulative = 0;
      (m.buckets ?? []).forEach((le, i) => {
        cumulative += h.counts[i] ?? 0;
        out.push({ name: `${m.name}_bucket`, labels: { ...s.labels, le: String(le) }, value: cumulative });
      });
      out.push({ name: `${m.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: h.count });
      out.push({ name: `${m.name}_sum`, labels: s.labels, value: h.sum });
      out.push({ name: `${m.name}_count`, labels: s.labels, value: h.count });
    }
  }
  return out;
}

export interface ServingNumbers {
  requests: number;
  errors5xx: number;
  errors4xx: number;
  errorRate: number | null;
  /** API requests refused without an answer (429 rate-limited, 503 busy or no model): counted apart from latency. */
  refused: number;
  p50Ms: number | null;
  p95Ms: number | null;
  modelVersion: number | null;
  feedbackQueueDepth: number | null;
}

/** What the server's counters say, since it started. */
export interface ServingCounts {
  /** Requests to the API routes: `/api/...` and the Open Inference Protocol's `/v2/...` (not the site's pages and files). */
  requests: number;
  errors4xx: number;
  errors5xx: number;
  predictions: number;
  /** API requests refused without an answer (429 rate-limited, 503 busy or no model). */
  refused: number;
  /**
   * Cumulative buckets of the `POST /api/predict` duration histogram of answered predictions (2xx), in seconds;
   * refused and failed requests are not predictions and are left out.
   */
  latency: CumulativeBucket[];
}

/** Whether a `route` label of the request counters is an API route: `/api/...` or the Open Inference Protocol's `/v2...`. */
export function isApiRoute(route: string | undefined): boolean {
  return route !== undefined && (route.startsWith('/api/') || route === '/v2' || route.startsWith('/v2/'));
}

/** A duration sample of an answered request: status 2xx (a sample without a status label predates the label: kept). */
function isAnswered(status: string | undefined): boolean {
  return status === undefined || /^2\d\d$/.test(status);
}

/** The counts in a server's metrics samples (a /metrics scrape or a snapshot of its registry). */
export function servingCounts(samples: PromSample[]): ServingCounts {
  const out: ServingCounts = { requests: 0, errors4xx: 0, errors5xx: 0, predictions: 0, refused: 0, latency: [] };
  const latency = new Map<number, number>();
  for (const s of samples) {
    if (s.name === METRIC.predictions) out.predictions += s.value;
    else if (s.name === `${METRIC.duration}_bucket` && s.labels.route === '/api/predict' && isAnswered(s.labels.status)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      latency.set(le, (latency.get(le) ?? 0) + s.value);
    } else if (s.name === METRIC.requests && isApiRoute(s.labels.route)) {
      out.requests += s.value;
      const status = Number(s.labels.status);
      if (status >= 500) out.errors5xx += s.value;
      else if (status >= 400) out.errors4xx += s.value;
      if (status === 429 || status === 503) out.refused += s.value;
    }
  }
  out.latency = [...latency].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  return out;
}

/** Request counts, 5xx rate over the API routes (`/api/` and `/v2`) and predict latency quantiles from the server's metrics. */
export function servingNumbers(samples: PromSample[]): ServingNumbers {
  const { requests, errors5xx, errors4xx, refused, latency: buckets } = servingCounts(samples);
  const q = (p: number) => {
    const v = histogramQuantile(buckets, p);
    return v === null ? null : Math.round(v * 1e5) / 100;
  };
  const gauge = (name: string) => samples.find((s) => s.name === name)?.value ?? null;
  return {
    requests,
    errors5xx,
    errors4xx,
    errorRate: requests > 0 ? errors5xx / requests : null,
    refused,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    modelVersion: gauge(METRIC.modelVersion),
    feedbackQueueDepth: gauge(METRIC.feedbackQueue),
  };
}

/** Scrape `<url>/metrics` of a running server. */
export async function scrapeMetrics(url: string, timeoutMs = 5000): Promise<PromSample[]> {
  const target = new URL('/metrics', url).toString();
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`cannot reach ${target}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`${target} answered HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}

export const METRICS_SNAPSHOT_FILE = 'server-metrics.json';

/** The snapshot the server writes to the monitoring folder, or null when there is none. */
export async function readMetricsSnapshot(dir: string): Promise<{ time: string; samples: PromSample[] } | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, METRICS_SNAPSHOT_FILE), 'utf8');
  } catch {
    return null;
  }
  const snap = JSON.parse(text) as { time: string; metrics: MetricSnapshot[] };
  return { time: snap.time, samples: samplesFromSnapshot(snap.metrics) };
}
