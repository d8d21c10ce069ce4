/**
 * Wait until `condition()` holds, checking every `everyMs`; fail naming `what` after `timeoutMs` (generous: the
 * machine running the tests may be loaded). For states a test cannot await directly (a counter, a swapped model).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000, everyMs = 20): Promise<void> {
  const t0 = Date.now();
  while (!(await condition())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
