import { describe, expect, it } from 'vitest';
import { decidePromotion, resolvePolicy } from '../../src/registry/gate.js';
import { card } from './fixtures/fake-model.js';

const policy = { minPrecision: 0.85, minRecall: 0.8, primaryMetric: 'f1' as const, tolerance: 0.01 };

describe('promotion gate', () => {
  it('promotes a good first model', () => {
    const r = decidePromotion(card(1, { precision: 0.9, recall: 0.85 }), null, policy);
    expect(r.promote).toBe(true);
    expect(r.checks.map((c) => c.passed)).toEqual([true, true, true]);
    expect(r.reasons).toContain('no model is promoted yet');
  });

  it('rejects a model below the precision or recall minimum, saying which', () => {
    const lowP = decidePromotion(card(1, { precision: 0.84, recall: 0.95 }), null, policy);
    expect(lowP.promote).toBe(false);
    expect(lowP.reasons).toEqual(['v1 precision 0.8400 is below minimum 0.85']);
    const lowR = decidePromotion(card(1, { precision: 0.95, recall: 0.7 }), null, policy);
    expect(lowR.promote).toBe(false);
    expect(lowR.reasons).toEqual(['v1 recall 0.7000 is below minimum 0.8']);
    // Exactly at the minimum passes.
    expect(decidePromotion(card(1, { precision: 0.85, recall: 0.8 }), null, policy).promote).toBe(true);
  });

  it('refuses a candidate that does not beat the zero-shot baseline on the same photos, and says so', () => {
    const worse = decidePromotion(card(1, { precision: 0.95, recall: 0.95, f1: 0.95, 'baseline.f1': 0.96 }), null, policy);
    expect(worse.promote).toBe(false);
    expect(worse.reasons).toEqual(['f1 0.9500 vs zero-shot baseline 0.9600: not better']);
    const equal = decidePromotion(card(1, { precision: 0.95, recall: 0.95, f1: 0.95, 'baseline.f1': 0.95 }), null, policy);
    expect(equal.promote).toBe(false);
    const better = decidePromotion(card(1, { precision: 0.97, recall: 0.97, f1: 0.97, 'baseline.f1': 0.95 }), null, policy);
    expect(better.promote).toBe(true);
    expect(better.checks.map((c) => c.name)).toContain('beats the zero-shot baseline on f1');
    // A policy may leave the baseline out (e.g. a tiny test split that ties it).
    expect(decidePromotion(card(1, { precision: 0.95, recall: 0.95, f1: 0.95, 'baseline.f1': 0.96 }), null, { ...policy, baseline: 'ignore' }).promote).toBe(true);
  });

  it('rejects a candidate worse than the champion beyond the tolerance', () => {
    const r = decidePromotion(card(2, { f1: 0.88 }), card(1, { f1: 0.9 }), policy);
    expect(r.promote).toBe(false);
    expect(r.reasons[0]).toMatch(/f1 0.8800 vs champion v1 0.9000 \(tolerance 0.01\): worse/);
  });

  it('promotes a candidate better than the champion, or worse only within the tolerance', () => {
    expect(decidePromotion(card(2, { f1: 0.93 }), card(1, { f1: 0.9 }), policy).promote).toBe(true);
    expect(decidePromotion(card(2, { f1: 0.895 }), card(1, { f1: 0.9 }), policy).promote).toBe(true);
  });

  it('compares on the configured primary metric', () => {
    const cand = card(2, { f1: 0.95, prAuc: 0.8 });
    const champ = card(1, { f1: 0.9, prAuc: 0.9 });
    expect(decidePromotion(cand, champ, { ...policy, primaryMetric: 'f1' }).promote).toBe(true);
    expect(decidePromotion(cand, champ, { ...policy, primaryMetric: 'prAuc' }).promote).toBe(false);
  });

  it('refuses to compare against a champion tested on a different test set', () => {
    const cand = card(2, { f1: 0.95 }, 'hash-b');
    const champ = card(1, { f1: 0.5 }, 'hash-a');
    const r = decidePromotion(cand, champ, policy);
    expect(r.promote).toBe(false);
    expect(r.reasons[0]).toMatch(/not comparable/);
    const lenient = decidePromotion(cand, champ, { ...policy, onDifferentTestSet: 'ignore-champion' });
    expect(lenient.promote).toBe(true);
    // The minimums still hold when the champion is ignored.
    expect(decidePromotion(card(2, { recall: 0.1 }, 'hash-b'), champ, { ...policy, onDifferentTestSet: 'ignore-champion' }).promote).toBe(false);
  });

  it('validates the policy', () => {
    expect(() => resolvePolicy({ minPrecision: 1.5 })).toThrow(/minPrecision must be a number in \[0, 1\]/);
    expect(() => resolvePolicy({ primaryMetric: 'loss' as never })).toThrow(/primaryMetric must be one of/);
    expect(resolvePolicy({ minRecall: undefined }).minRecall).toBe(0.8);
  });
});
