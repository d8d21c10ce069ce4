import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValidationGate, ValidationGateError } from '../../src/validation/gate.js';
import { formatValidationReport, loadValidationReport, saveValidationReport, validationReportPath } from '../../src/validation/report.js';
import { mergeValidationConfig } from '../../src/validation/config.js';
import type { CheckResult, ValidationReport } from '../../src/validation/types.js';
import { tempHome } from './fixtures.js';

let home: string;
beforeAll(() => (home = tempHome()));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const result = (id: string, status: CheckResult['status']): CheckResult => ({ id, title: id, status, summary: `${id} is ${status}`, evidence: {} });
function report(checks: CheckResult[]): ValidationReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return {
    createdAt: new Date().toISOString(), dataset: 'gate-test', config: mergeValidationConfig(), summary,
    counts: { entries: 1, accepted: 1, rejected: 0, measured: 1, prepared: 0 }, timings: { total: 5 }, checks,
  };
}

describe('assertValidationGate', () => {
  const r = report([result('integrity', 'pass'), result('duplicates', 'warn'), result('property-label-correlation', 'fail')]);

  it('throws on a failing check, naming it and the flag that overrides it', () => {
    let error: unknown;
    try {
      assertValidationGate(r);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationGateError);
    expect((error as Error).message).toContain('property-label-correlation: property-label-correlation is fail');
    expect((error as Error).message).toContain('--allow-check property-label-correlation');
    expect((error as ValidationGateError).failed.map((c) => c.id)).toEqual(['property-label-correlation']);
  });

  it('lets an allowed failure through and returns the warnings for recording', () => {
    const outcome = assertValidationGate(r, { allow: ['property-label-correlation'] });
    expect(outcome.warnings.map((c) => c.id)).toEqual(['duplicates']);
    expect(outcome.allowed.map((c) => c.id)).toEqual(['property-label-correlation']);
  });

  it('passes a report without failures and rejects unknown check ids', () => {
    expect(assertValidationGate(report([result('integrity', 'pass')])).warnings).toEqual([]);
    expect(() => assertValidationGate(r, { allow: ['no-such-check'] })).toThrow(/unknown validation check to allow: no-such-check/);
  });
});

describe('report files and tables', () => {
  it('saves atomically under the data set folder and loads back', async () => {
    const r = report([result('integrity', 'pass'), result('label-errors', 'warn')]);
    const file = await saveValidationReport(r);
    expect(file).toBe(path.join(home, 'datasets', 'gate-test', 'validation.json'));
    expect(file).toBe(validationReportPath('gate-test'));
    expect(await loadValidationReport('gate-test')).toEqual(r);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['validation.json']);
  });

  it('prints one row per check with its status', () => {
    const text = formatValidationReport(report([result('integrity', 'pass'), result('split-leakage', 'fail')]));
    expect(text).toMatch(/1 pass, 0 warn, 1 fail/);
    expect(text).toMatch(/integrity\s+PASS\s+integrity is pass/);
    expect(text).toMatch(/split-leakage\s+FAIL\s+split-leakage is fail/);
  });
});

describe('mergeValidationConfig', () => {
  it('overrides one threshold and keeps the rest', () => {
    const c = mergeValidationConfig({ drift: { ksWarn: 0.3 } });
    expect(c.drift.ksWarn).toBe(0.3);
    expect(c.drift.psiWarn).toBe(0.1);
  });
  it('rejects unknown settings and empty mixes', () => {
    expect(() => mergeValidationConfig({ drift: { nope: 1 } } as never)).toThrow(/drift.nope/);
    expect(() => mergeValidationConfig({ mix: { cat: 0 } })).toThrow(/positive/);
  });
});
