import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { exists } from '../storage/atomic.js';

export interface MonitoringPageData {
  /** JSON documents found under the monitoring folder, by relative path. */
  documents: { name: string; value: unknown }[];
  /** JSON-lines files: their rows, by relative path (at most `maxRows` newest rows each). */
  series: { name: string; rows: unknown[] }[];
  problems: string[];
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(path.join(dir, entry.name), r)));
    else if (entry.isFile()) out.push(r);
  }
  return out.sort();
}

/** What the monitoring job has written under `paths.monitoring()` (JSON and JSON-lines files). */
export async function monitoringPageData(maxRows = 5000): Promise<MonitoringPageData> {
  const root = paths.monitoring();
  const out: MonitoringPageData = { documents: [], series: [], problems: [] };
  if (!(await exists(root))) return out;
  for (const name of await walk(root)) {
    const file = path.join(root, name);
    try {
      if (name.endsWith('.json')) out.documents.push({ name, value: JSON.parse(await fs.readFile(file, 'utf8')) });
      else if (name.endsWith('.jsonl')) {
        const rows: unknown[] = [];
        for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
          if (!line.trim()) continue;
          try {
            rows.push(JSON.parse(line));
          } catch {
            // torn last line while appending
          }
        }
        out.series.push({ name, rows: rows.slice(-maxRows) });
      }
    } catch (err) {
      out.problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  return out;
}
