import { measureProperties } from '../monitoring/measure.js';
import type { JsonlAppender } from '../monitoring/event-log.js';
import type { PredictionLogEntry } from '../monitoring/types.js';

/**
 * Logs every prediction for monitoring and measures the input's image properties (the validation's measurement, so
 * they compare with the training data) off the request path. At most `maxInFlight` measurements run at once; when
 * the server is busier than that, the entry is logged without properties and counted as skipped.
 */
export class PredictionMonitor {
  private inFlight = 0;

  constructor(
    private readonly log: JsonlAppender,
    private readonly maxInFlight = 2,
    private readonly onSkip: () => void = () => undefined,
  ) {}

  record(entry: Omit<PredictionLogEntry, 'properties'>, image: Buffer): void {
    if (this.inFlight >= this.maxInFlight) {
      this.onSkip();
      this.log.append('predictions', entry);
      return;
    }
    this.inFlight++;
    measureProperties(image)
      .then((properties) => this.log.append('predictions', properties ? { ...entry, properties } : entry))
      .catch(() => this.log.append('predictions', entry))
      .finally(() => {
        this.inFlight--;
      });
  }

  get busy(): number {
    return this.inFlight;
  }
}
