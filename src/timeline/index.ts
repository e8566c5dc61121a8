// The staging timeline's public surface (see README.md).
export { StagingTimeline, type TimelineOptions } from './timeline.js';
export { timelineSite, type TimelineSite } from './site-facts.js';
export { dhcpExchangeEvent, timelineDhcpEvents, timelineDnsEvents, timelineNtpEvents } from './adapters.js';
export type * from './types.js';

import type { Plan } from '../site/plan.js';
import { StagingTimeline, type TimelineOptions } from './timeline.js';
import { timelineSite } from './site-facts.js';

/** A timeline that knows the plan's site name and domains (the appliance calls `setSite(timelineSite(next))` on reload). */
export function createTimeline(plan: Plan, options: Omit<TimelineOptions, 'site'> = {}): StagingTimeline {
  return new StagingTimeline({ ...options, site: timelineSite(plan) });
}
