// The XState machines of the product and the helpers backends use to drive them.
export {
  orchestrationMachine,
  statusOfState,
  STATUS_EVENT_TYPES,
  type OrchestrationMachineState,
} from './orchestration.machine.ts';
export {
  taskHubMachine,
  HUB_BUSY_STATES,
  type TaskHubMachine,
  type HubStateName,
  type HubEvent,
  type HubContext,
  type ProvisionInput,
  type StartInput,
  type StopInput,
  type DeprovisionInput,
} from './task-hub.machine.ts';
export {
  HubLifecycle,
  type HubLifecycleOptions,
  type HubStep,
  type HubSteps,
} from './task-hub-lifecycle.ts';
export {
  workItemMachine,
  workItemEvent,
  type WorkItemMachine,
  type WorkItemStateName,
  type WorkItemCall,
  type WorkItemEvent,
  type WorkItemContext,
} from './work-item.machine.ts';
export { WorkItemLock, WorkItemLockTable } from './work-item-lock.ts';
export {
  partitionLeaseMachine,
  leaseUsable,
  type PartitionLeaseMachine,
  type PartitionLeaseStateName,
  type PartitionLeaseEvent,
  type PartitionLeaseContext,
} from './partition-lease.machine.ts';
