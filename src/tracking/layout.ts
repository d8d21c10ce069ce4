import path from 'node:path';
import { paths } from '../storage/paths.js';
import { checkArtifactName, checkRunId } from './ids.js';

/**
 * The on-disk layout of the runs folder (see types.ts); the only module that joins its paths. Everything else
 * asks the store: `getRun()`, `artifactPath()`, `readArtifactJson()` in runs.ts, `Run.artifactPath()` while a run
 * is open.
 */
export const runsRoot = (root?: string): string => root ?? paths.runs();

/** `<root>/<id>`: the folder of one run (the id is checked so it cannot leave the runs folder). */
export function runDirOf(id: string, root?: string): string {
  checkRunId(id);
  return path.join(runsRoot(root), id);
}

export const runRecordFile = (dir: string): string => path.join(dir, 'run.json');
export const epochsFile = (dir: string): string => path.join(dir, 'epochs.jsonl');
export const artifactsDirIn = (dir: string): string => path.join(dir, 'artifacts');

/** `<dir>/artifacts/<name>`; the name is a relative path inside the run (checked). */
export const artifactPathIn = (dir: string, name: string): string => path.join(artifactsDirIn(dir), checkArtifactName(name));
