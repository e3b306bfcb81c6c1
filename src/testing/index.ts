// The conformance kit: property tests any OrchestrationService implementation can run.
// It needs fast-check at run time (a dev dependency of this package), so it is a
// separate entry from the product's main export.
export {
  checkOrchestrationServiceInvariants,
  conformanceParameters,
  orchestrationServiceProperty,
  type ConformanceOptions,
} from './conformance-kit.ts';
export type {
  AdvanceableClock,
  BackendContext,
  ConformanceFocus,
  ConformanceTarget,
} from './conformance-target.ts';
export {
  InvariantViolation,
  invariantOf,
  LOCK_INVARIANTS,
  type InvariantId,
} from './invariant-violation.ts';
export type { BackendSemantics } from './model/model-types.ts';
export type { GeneratorFeatures } from './model/service-model.ts';
export { ManualClock } from './manual-clock.ts';
