/** How the commands print: JSON, plain text tables and the numbers in them. */

/** Plain text table: one header row, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatNumber(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export interface Listing<T> {
  /** Print `json` instead of the table. */
  asJson?: boolean;
  json: () => unknown;
  items: T[];
  /** The line printed when there are no items. */
  empty: string;
  header: string[];
  row: (item: T) => string[];
  /** Lines for what could not be listed (damaged entries), to stderr after the table. */
  skipped: string[];
}

/** What a `list` command prints: JSON, or a table (or the empty line) followed by the skipped entries on stderr. */
export function printListing<T>(l: Listing<T>): void {
  if (l.asJson) {
    process.stdout.write(JSON.stringify(l.json(), null, 2) + '\n');
    return;
  }
  if (!l.items.length) process.stdout.write(l.empty + '\n');
  else process.stdout.write(formatTable(l.header, l.items.map(l.row)));
  for (const line of l.skipped) process.stderr.write(line + '\n');
}
