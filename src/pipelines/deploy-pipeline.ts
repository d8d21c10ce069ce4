import type { Decision, PromotedModel, PromotionPolicy } from '../registry/types.js';
import type { PublishResult } from '../registry/publish.js';
import { registerAndDecide } from './gate-decision.js';
import { runTrainingPipeline, type TrainPipelineOptions, type TrainPipelineResult } from './train-pipeline.js';

export interface DeployPipelineOptions extends TrainPipelineOptions {
  policy?: Partial<PromotionPolicy>;
  /** Rebuild the report site's data after the decision (default true when a builder is given). */
  refreshSite?: () => Promise<void>;
}

export interface DeployPipelineResult {
  training: TrainPipelineResult;
  version: PromotedModel;
  decision: Decision | null;
  /** Set when the candidate already was the promoted model (a cached re-run). */
  alreadyPromoted: boolean;
  /** What was published to S3 (AREYOUACAT_S3_BUCKET set), else null. */
  published: PublishResult | null;
}

/**
 * Train (tuning optionally), evaluate, register the model as a new version, let the gate decide against the
 * current champion, promote when it passes, and refresh the site. A cached training run is not registered twice.
 */
export async function runDeployPipeline(opts: DeployPipelineOptions): Promise<DeployPipelineResult> {
  const training = await runTrainingPipeline(opts);
  const { version, decision, alreadyPromoted, published } = await registerAndDecide(training.run.runId, training.dataset.name, opts);
  return { training, version, decision, alreadyPromoted, published };
}
