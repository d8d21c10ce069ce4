import { timeSortableId } from '../storage/ids.js';

/** A run id that sorts by start time: `YYYYMMDDTHHMMSSmmmZ-<6 hex>`. */
export function newRunId(now = new Date()): string {
  return timeSortableId(now, 3);
}

/** Run ids and artifact names become paths: refuse anything that could leave the runs folder. */
export function checkRunId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`"${id}" is not a valid run id`);
}

export function checkArtifactName(name: string): string {
  const parts = name.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) throw new Error(`"${name}" is not a valid artifact name: use a relative path inside the run`);
  return parts.join('/');
}
