/** A Markdown table (for `tslab.display.markdown`): cells are stringified, pipes escaped, line breaks flattened. */
export function markdownTable(header: string[], rows: unknown[][]): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- cells are numbers and strings; anything else shows as String() makes it
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v)).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length) throw new Error(`row ${i} has ${r.length} cells; the header has ${header.length}`);
  }
  const line = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}
