import type { CloudVMsConfig } from '../config/cluster-config.js';
import type { Clock } from '../ports/clock.js';
import type { InstanceSet } from '../ports/instance-set.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import { DefaultTaggingInstanceSet } from './default-tagging-instance-set.js';
import { FilteringInstanceSet } from './filtering-instance-set.js';
import { InstrumentedInstanceSet } from './instrumented-instance-set.js';
import { RateLimitedInstanceSet } from './rate-limited-instance-set.js';

export interface WrapOptions {
  readonly config: Pick<CloudVMsConfig, 'MaxCloudOpsPerSecond' | 'ResourceTags'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The decorator chain Arvados puts around every driver, outermost first: filtering,
 * default tags, rate limiting (only when MaxCloudOpsPerSecond > 0), instrumentation.
 * Production and the simulator both build the pool's InstanceSet with this.
 */
export function wrapInstanceSet(driver: InstanceSet, o: WrapOptions): InstanceSet {
  let set: InstanceSet = new InstrumentedInstanceSet(driver, o.metrics);
  if (o.config.MaxCloudOpsPerSecond > 0) set = new RateLimitedInstanceSet(set, o.clock, o.config.MaxCloudOpsPerSecond);
  set = new DefaultTaggingInstanceSet(set, o.config.ResourceTags);
  return new FilteringInstanceSet(set, o.logger);
}
