import type { CheckContext } from '../context.js';
import type { CheckResult, CheckStatus, PropertyName } from '../types.js';
import { PROPERTY_NAMES } from '../types.js';
import { pct } from '../context.js';
import { round } from '../../stats/round.js';
import { chartEdges, histogramCounts, robustZ, summaryQuantiles } from '../stats.js';

/** Values of every property per split and group, binned for distribution charts. */
export function propertyDistributions(items: ReadonlyArray<{ split: string; group: string; props: Record<PropertyName, number> }>, bins = 30) {
  return PROPERTY_NAMES.map((property) => {
    const all = items.map((m) => m.props[property]);
    const edges = chartEdges(all, bins).map((e) => round(e));
    const keys = [...new Set(items.map((m) => `${m.split}\u0000${m.group}`))].sort();
    const series = keys.map((key) => {
      const [split, group] = key.split('\u0000');
      const values = items.filter((m) => m.split === split && m.group === group).map((m) => m.props[property]);
      return { split, group, n: values.length, counts: histogramCounts(values, edges), quantiles: summaryQuantiles(values) };
    });
    return { property, edges, series };
  });
}

/** Images whose brightness, contrast, sharpness, colourfulness, saturation, width, height or aspect is extreme. */
export async function outliersCheck(ctx: CheckContext): Promise<CheckResult> {
  const cfg = ctx.config.outliers;
  const items = ctx.measured;
  const perProperty = [];
  for (const property of PROPERTY_NAMES) {
    const values = items.map((m) => m.props[property]);
    const { z, median, scale } = robustZ(values);
    const idx = z.map((_, i) => i).filter((i) => Math.abs(z[i]) > cfg.robustZ).sort((a, b) => Math.abs(z[b]) - Math.abs(z[a]));
    const fraction = items.length ? idx.length / items.length : 0;
    const status: CheckStatus = fraction > cfg.warnFraction ? 'warn' : 'pass';
    const outliers = await Promise.all(
      // Every listed outlier with its thumbnail (the page shows them all; they are cached by path across properties).
      idx.slice(0, cfg.maxListed).map(async (i) => ({
        path: items[i].path,
        group: items[i].group,
        split: items[i].split,
        value: values[i],
        z: round(z[i], 2),
        thumbnail: await ctx.thumbnail(items[i].path),
      })),
    );
    perProperty.push({
      property,
      status,
      count: idx.length,
      fraction: round(fraction),
      median: round(median),
      scale: round(scale),
      bounds: [round(median - cfg.robustZ * scale), round(median + cfg.robustZ * scale)],
      outliers,
    });
  }
  const flagged = perProperty.filter((p) => p.status !== 'pass');
  const total = new Set(perProperty.flatMap((p) => p.outliers.map((o) => o.path))).size;
  const status: CheckStatus = flagged.length ? 'warn' : 'pass';
  const counts = perProperty.filter((p) => p.count).map((p) => `${p.property} ${p.count}`).join(', ');
  const summary = flagged.length
    ? `outlier share above ${pct(cfg.warnFraction)} for ${flagged.map((p) => `${p.property} (${pct(p.fraction)})`).join(', ')} (|robust z| > ${cfg.robustZ})`
    : counts
      ? `few outliers (|robust z| > ${cfg.robustZ}): ${counts}`
      : `no property outliers (|robust z| > ${cfg.robustZ})`;
  return {
    id: 'property-outliers',
    title: 'Image property outliers',
    status,
    summary,
    evidence: { properties: perProperty, listedImages: total, distributions: propertyDistributions(items), thresholds: cfg },
  };
}
