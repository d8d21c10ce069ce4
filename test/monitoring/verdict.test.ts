/**
 * Issue 26, first run: a fresh deployment's monitoring report (every section with too little data) is "not enough
 * data to judge yet", never "All checks ok" in green. The real monitor on a fresh data folder with a promoted model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMonitoringReport } from '../../src/monitoring/report.js';
import { monitoringPageData } from '../../src/site/monitoring.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { useTempHome } from '../serve/helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;

beforeAll(async () => {
  home = await useTempHome('verdict');
  await promoteTestModel(await registerTestModel({ tmp: home.home }));
}, 120_000);

afterAll(async () => {
  await home?.restore();
});

describe('the monitoring verdict', () => {
  it('is "not judged" when no section has enough data', async () => {
    const { report } = await buildMonitoringReport({ save: false });
    expect(report.alerts).toEqual([]);
    expect(report.warnings).toEqual([]);
    const data = await monitoringPageData(90, { report });
    expect(data.verdict?.tone).toBe('not-judged');
    expect(data.verdict?.headline).not.toMatch(/ok/i);
    expect(data.verdict?.notJudged.length).toBe(4);
  });
});
