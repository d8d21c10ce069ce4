import { deleteLogsBefore } from '../monitoring/event-log.js';
import { purgeFeedback, type PurgeOptions as FeedbackPurgeOptions, type PurgeResult as FeedbackPurgeResult } from '../feedback/purge.js';

export interface PurgeOptions extends FeedbackPurgeOptions {
  /** Monitoring folder: daily prediction/feedback logs past retention are deleted too. */
  monitoringDir?: string;
}

export interface PurgeResult extends FeedbackPurgeResult {
  deletedLogs: number;
}

/**
 * Retention of everything the server keeps about its users: feedback in S3 and in the local queue, and the
 * monitoring logs of predictions and feedback, all cut at the same day.
 */
export async function purgeExpired(options: PurgeOptions): Promise<PurgeResult> {
  const result = await purgeFeedback(options);
  const deletedLogs = options.monitoringDir ? (await deleteLogsBefore(options.monitoringDir, result.cutoffDay)).length : 0;
  return { ...result, deletedLogs };
}
