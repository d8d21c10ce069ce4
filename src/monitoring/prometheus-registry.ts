/**
 * A small metrics registry with Prometheus text exposition (format 0.0.4): counters, gauges and histograms with
 * labels. `snapshot()` gives the same numbers as JSON for the periodically written snapshot that monitoring reads.
 */

export type Labels = Record<string, string>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

export interface MetricSnapshot {
  name: string;
  help: string;
  kind: Kind;
  /** For histograms: upper bounds of the buckets (without +Inf). */
  buckets?: number[];
  series: Array<{ labels: Labels; value?: number; histogram?: { counts: number[]; sum: number; count: number } }>;
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k])}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  return String(x);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name "${name}"`);
  }
  abstract render(): string[];
  abstract snapshot(): MetricSnapshot;
}

/** A metric with one number per label set (counters and gauges): their series, text lines and snapshot. */
abstract class ScalarMetric extends Metric {
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  render(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${formatLabels(v.labels)} ${formatNumber(v.value)}`);
  }
  snapshot(): MetricSnapshot {
    return { name: this.name, help: this.help, kind: this.kind, series: [...this.values.values()].map((v) => ({ ...v })) };
  }
}

export class Counter extends ScalarMetric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error('a counter only goes up');
    const key = labelKey(labels);
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }
}

export class Gauge extends ScalarMetric {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), { labels: { ...labels }, value });
  }
  /** Replace all series with one (e.g. the model version label). */
  reset(): void {
    this.values.clear();
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(labelKey(labels))?.value;
  }
}

export class Histogram extends Metric {
  private readonly values = new Map<string, { labels: Labels; h: HistogramValue }>();
  readonly bounds: number[];
  constructor(name: string, help: string, bounds: number[]) {
    super(name, help, 'histogram');
    this.bounds = [...bounds].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let v = this.values.get(key);
    if (!v) {
      v = { labels: { ...labels }, h: { buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 } };
      this.values.set(key, v);
    }
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) v.h.buckets[i]++;
    v.h.sum += value;
    v.h.count++;
  }
  render(): string[] {
    const lines: string[] = [];
    for (const { labels, h } of this.values.values()) {
      let cumulative = 0;
      this.bounds.forEach((b, i) => {
        cumulative += h.buckets[i];
        lines.push(`${this.name}_bucket${formatLabels(labels, ['le', formatNumber(b)])} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${formatLabels(labels, ['le', '+Inf'])} ${h.count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatNumber(h.sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${h.count}`);
    }
    return lines;
  }
  snapshot(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      kind: this.kind,
      buckets: this.bounds,
      series: [...this.values.values()].map(({ labels, h }) => ({
        labels,
        histogram: { counts: [...h.buckets], sum: h.sum, count: h.count },
      })),
    };
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, bounds: number[]): Histogram {
    return this.add(new Histogram(name, help, bounds));
  }
  private add<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric "${m.name}" registered twice`);
    this.metrics.push(m);
    return m;
  }
  /** Prometheus text exposition format. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${m.name} ${m.kind}`);
      out.push(...m.render());
    }
    return out.join('\n') + '\n';
  }
  snapshot(): MetricSnapshot[] {
    return this.metrics.map((m) => m.snapshot());
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
