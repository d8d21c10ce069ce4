import { S3_ENV } from '../../src/storage/s3-config.js';

/** The data folder and S3 settings that tests point elsewhere. */
export const HOME_AND_S3_ENV: readonly string[] = ['AREYOUACAT_HOME', ...Object.values(S3_ENV)];

/**
 * Remember these environment variables as they are now; the function returned puts them back, unsetting the ones
 * that were not set (assigning `undefined` to process.env would set the string "undefined").
 */
export function saveEnv(keys: readonly string[]): () => void {
  const saved = keys.map((k) => [k, process.env[k]] as const);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
