import { describe, expect, it } from 'vitest';
import { markdownTable } from '../../src/notebook/index.js';

describe('markdownTable', () => {
  it('escapes pipes and flattens line breaks so a cell cannot split the table', () => {
    const table = markdownTable(['check', 'detail'], [['flip: mean |delta p|', 'line one\nline two'], ['empty', null]]);
    expect(table.split('\n')).toEqual(['| check | detail |', '|---|---|', '| flip: mean \\|delta p\\| | line one line two |', '| empty |  |']);
  });

  it('refuses rows that do not match the header', () => {
    expect(() => markdownTable(['a', 'b'], [['only one']])).toThrow(/row 0 has 1 cells; the header has 2/);
  });
});
