import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * JSON-lines files: one JSON value per line, appended, never rewritten. A writer that crashes mid-write leaves a
 * torn last line; readers skip any line that does not parse (and count it) rather than failing the whole file.
 */
export interface JsonLines<T> {
  records: T[];
  /** Lines that are not valid JSON (a torn last line, or damage elsewhere); they are skipped. */
  badLines: number;
}

/** Parse JSON-lines text. Blank lines are ignored, CRLF line ends are accepted, bad lines are skipped and counted. */
export function parseJsonLines<T>(text: string): JsonLines<T> {
  const records: T[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}

/** Read a JSON-lines file; a missing file holds no records. Other read errors (permissions, ...) are thrown. */
export async function readJsonLines<T>(file: string): Promise<JsonLines<T>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: 0 };
    throw err;
  }
  return parseJsonLines<T>(text);
}

/**
 * Append one value as one line, in a single write (creating the file and its folder when missing). With `sync`,
 * the line is flushed to disk before the promise resolves.
 */
export async function appendJsonLine(file: string, value: unknown, opts: { sync?: boolean } = {}): Promise<void> {
  await appendLines(file, [JSON.stringify(value)], opts);
}

/** Append already serialized lines (each one JSON value, no newline inside) in a single write. */
export async function appendLines(file: string, lines: string[], opts: { sync?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const h = await fs.open(file, 'a');
  try {
    await h.write(lines.join('\n') + '\n');
    if (opts.sync) await h.sync();
  } finally {
    await h.close();
  }
}
