import { measureProperties } from '../monitoring/measure.js';
import type { JsonlAppender } from '../monitoring/event-log.js';
import type { PredictionLogEntry } from '../monitoring/types.js';
import { TokenBucketLimiter } from './rate-limit.js';

export interface PredictionSampling {
  /** Inputs measured per second at most (a token bucket; a burst of the same size). */
  perSecond: number;
  /** Measurements running at once at most (default 1). */
  maxInFlight?: number;
}

/**
 * Logs every prediction for monitoring and measures a sample of the inputs' image properties (the validation's
 * measurement, so they compare with the training data) off the request path. Under load only `perSecond` inputs
 * are measured, so monitoring never competes much with answering; the rest are logged without properties and
 * counted as skipped.
 */
export class PredictionMonitor {
  private inFlight = 0;
  private readonly sampler: TokenBucketLimiter;
  private readonly maxInFlight: number;

  constructor(
    private readonly log: JsonlAppender,
    sampling: PredictionSampling,
    private readonly onSkip: () => void = () => undefined,
  ) {
    this.sampler = new TokenBucketLimiter({ burst: Math.max(1, sampling.perSecond), perSecond: Math.max(1e-3, sampling.perSecond) });
    this.maxInFlight = sampling.maxInFlight ?? 1;
  }

  record(entry: Omit<PredictionLogEntry, 'properties'>, image: Buffer): void {
    if (this.inFlight >= this.maxInFlight || !this.sampler.take('all').allowed) {
      this.onSkip();
      this.log.append('predictions', entry);
      return;
    }
    this.inFlight++;
    measureProperties(image)
      .then((properties) => this.log.append('predictions', properties ? { ...entry, properties } : entry))
      .catch(() => undefined) // a monitoring failure loses this log line, never the server
      .finally(() => {
        this.inFlight--;
      });
  }
}
