import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../../src/cli/require-node.js';

describe('Node.js floor', () => {
  it('accepts 20.19 and later 20.x, and 22', () => {
    for (const v of ['20.19.0', '20.20.2', '22.12.0']) expect(nodeVersionProblem(v), v).toBeNull();
  });
  it('refuses older Node.js with a message that names the floor and the running version', () => {
    for (const v of ['20.11.1', '20.18.3', '18.20.0']) {
      const problem = nodeVersionProblem(v);
      expect(problem, v).toContain('20.19.0');
      expect(problem, v).toContain(v);
    }
  });
  it('refuses untested majors', () => {
    expect(nodeVersionProblem('24.0.0')).toMatch(/Node.js 20 or 22/);
  });
});
