import { describe, expect, it } from 'vitest';
import { barSpec, binnedHistogramSpec, chartSvg, learningCurveSpec, rocPrSpec, sliceSpec, trialScoresSpec, distributionSpec } from '../../src/notebook/index.js';
import { evaluateSplit } from '../../src/evaluation/index.js';

function countMatches(svg: string, re: RegExp): number {
  return (svg.match(re) ?? []).length;
}

describe('chartSvg', () => {
  it('renders a Vega-Lite spec to an SVG with one mark per datum', async () => {
    const svg = await chartSvg({ data: { values: [{ g: 'cat', n: 3 }, { g: 'dog', n: 5 }, { g: 'misc', n: 1 }] }, mark: 'bar', encoding: { x: { field: 'g', type: 'nominal' }, y: { field: 'n', type: 'quantitative' } } });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(countMatches(svg, /aria-roledescription="bar"/g)).toBe(3);
    for (const label of ['cat', 'dog', 'misc']) expect(svg).toContain(`>${label}<`);
  });

  it('rejects a spec Vega-Lite cannot compile with a clear error', async () => {
    await expect(chartSvg({ mark: 'no-such-mark' })).rejects.toThrow(/Vega-Lite/);
  });
});

describe('spec builders', () => {
  it('learning curves show training and validation loss and accuracy', async () => {
    const epochs = [1, 2, 3].map((epoch) => ({ epoch, time: '', metrics: { loss: 1 / epoch, acc: 0.5 + epoch / 10, val_loss: 1.2 / epoch, val_acc: 0.5 + epoch / 12 } }));
    const svg = await chartSvg(learningCurveSpec(epochs));
    expect(svg).toContain('>loss<');
    expect(svg).toContain('>acc<');
    expect(svg).toContain('>validation<');
    expect(svg).toContain('>training<');
  });

  it('ROC/PR and slices render from a real evaluation of scored predictions', async () => {
    const labels = [1, 1, 1, 0, 0, 0, 0, 0];
    const probs = [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4, 0.05];
    const groups = ['cat', 'cat', 'cat', 'dog', 'dog', 'selfie', 'misc', 'misc'];
    const split = await evaluateSplit({ labels, probs, groups, paths: groups.map((g, i) => `${g}/${i}.jpg`) }, 0.5, 'test');
    const roc = await chartSvg(rocPrSpec(split));
    expect(roc).toContain(`AUC ${split.rocAuc!.toFixed(3)}`);
    const slices = await chartSvg(sliceSpec(split.slices));
    expect(countMatches(slices, /aria-roledescription="bar"/g)).toBe(4);
  });

  it('trial scores get one panel per hyperparameter, numeric or categorical', async () => {
    const trials = [0, 1, 2].map((index) => ({ index, params: { learningRate: 0.001 * (index + 1), batchNorm: index % 2 === 0 }, status: 'completed' as const, score: 0.5 + index / 10, rungs: [] }));
    const spec = trialScoresSpec(trials);
    expect((spec.concat as unknown[]).length).toBe(2);
    const svg = await chartSvg(spec);
    expect(svg).toContain('>learningRate<');
    expect(svg).toContain('>batchNorm<');
  });

  it('distribution charts drop values that are not finite', async () => {
    const spec = distributionSpec([{ group: 'cat', value: 1 }, { group: 'dog', value: Number.NaN }], 'brightness');
    expect((spec.data as { values: unknown[] }).values).toHaveLength(1);
    expect(await chartSvg(spec)).toContain('>brightness<');
  });
});

describe('binned histograms and bars', () => {
  it('sums a group over splits and refuses counts that do not match the edges', async () => {
    const d = { property: 'sharpness', edges: [0, 1, 2], series: [{ group: 'cat', split: 'train', counts: [1, 2] }, { group: 'cat', split: 'test', counts: [3, 0] }, { group: 'dog', counts: [0, 4] }] };
    const spec = binnedHistogramSpec(d);
    const values = (spec.data as { values: { group: string; x0: number; count: number }[] }).values;
    expect(values.filter((v) => v.group === 'cat').map((v) => v.count)).toEqual([4, 2]);
    const svg = await chartSvg(spec);
    expect((svg.match(/aria-roledescription="bar"/g) ?? []).length).toBe(4);
    expect(() => binnedHistogramSpec({ ...d, edges: [0, 1] })).toThrow(/2 counts for 2 edges/);
  });

  it('draws a limit rule when given', async () => {
    const svg = await chartSvg(barSpec([{ label: 'a', value: 0.1 }, { label: 'b', value: 0.3 }], 'scores', { limit: 0.2 }));
    expect((svg.match(/aria-roledescription="bar"/g) ?? []).length).toBe(2);
    expect(svg).toContain('aria-roledescription="rule mark"');
  });
});
