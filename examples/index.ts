import type { TaskHubWorker } from '../src/runtime/index.ts';
import { approvalWorkflow } from './approval.ts';
import { directoryStats, listFiles, measureFiles } from './directory-stats.ts';
import { helloCities, sayHello } from './greetings.ts';
import { chargePayment, processOrder, processOrderBatch, reserveStock } from './orders.ts';

export { approvalWorkflow, directoryStats, helloCities, processOrder, processOrderBatch };

/** Registers every example orchestration and activity on a worker. */
export function registerExamples(worker: TaskHubWorker): void {
  worker.addOrchestration('HelloCities', helloCities);
  worker.addOrchestration('DirectoryStats', directoryStats);
  worker.addOrchestration('Approval', approvalWorkflow);
  worker.addOrchestration('ProcessOrder', processOrder);
  worker.addOrchestration('ProcessOrderBatch', processOrderBatch);
  worker.addActivity('SayHello', sayHello);
  worker.addActivity('ListFiles', listFiles);
  worker.addActivity('MeasureFiles', measureFiles);
  worker.addActivity('ReserveStock', reserveStock);
  worker.addActivity('ChargePayment', chargePayment);
}
