import type { Orchestrator } from './runtime-api.ts';

/** How long the activity of the crash tests runs (its lock is a fraction of it). */
export const LONG_ACTIVITY_MS = 5_000;

/** Calls 'Long' once and returns its result. */
export const crashableOrchestration: Orchestrator = function* (ctx) {
  return yield ctx.callActivity('Long');
};
