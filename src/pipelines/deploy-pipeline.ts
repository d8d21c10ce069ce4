import { listVersions, promote, registerFromRun } from '../registry/index.js';
import type { Decision, PromotedModel, PromotionPolicy } from '../registry/types.js';
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
}

/**
 * Train (tuning optionally), evaluate, register the model as a new version, let the gate decide against the
 * current champion, promote when it passes, and refresh the site. A cached training run is not registered twice.
 */
export async function runDeployPipeline(opts: DeployPipelineOptions): Promise<DeployPipelineResult> {
  const log = opts.log ?? (() => {});
  const training = await runTrainingPipeline(opts);
  const runId = training.run.runId;
  const { versions } = await listVersions();
  let version = versions.find((v) => v.card.runId === runId);
  if (version) log(`registry: run ${runId} is already v${version.version}`);
  else {
    version = await registerFromRun(runId);
    log(`registry: registered run ${runId} as v${version.version}`);
  }
  let decision: Decision | null = null;
  let alreadyPromoted = false;
  try {
    decision = await promote(version.version, { policy: opts.policy });
    log(`gate: ${decision.action} v${version.version}: ${decision.reasons.join('; ')}`);
  } catch (err) {
    if (!/already the promoted model/.test((err as Error).message)) throw err;
    alreadyPromoted = true;
    log(`gate: v${version.version} is already the promoted model`);
  }
  if (opts.refreshSite) {
    log('site: refreshing the report data');
    await opts.refreshSite();
  }
  return { training, version, decision, alreadyPromoted };
}
