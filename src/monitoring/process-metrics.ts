import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | null = null;

/**
 * The process's own metrics from prom-client's default collectors: CPU, resident memory, heap, event-loop lag,
 * GC durations, open handles and file descriptors, Node version. They describe the process, not one server, so one
 * registry is made per process (on first use) and every server in it shows the same numbers.
 */
export function processMetricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** The process metrics in the Prometheus text format (0.0.4), ending with a newline. */
export async function renderProcessMetrics(): Promise<string> {
  const text = await processMetricsRegistry().metrics();
  return text.endsWith('\n') ? text : `${text}\n`;
}
