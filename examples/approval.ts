import type { Orchestrator } from '../src/runtime/index.ts';

export interface ApprovalRequest {
  readonly requestId: string;
  /** How long to wait for a decision before the request expires. */
  readonly timeoutMs: number;
}

/**
 * Human interaction: waits for an "Approval" event raised by a client, racing
 * a durable timer. Returns "Approved", "Rejected" or "Expired". The timer is
 * cancelled when the event wins so the instance completes at once.
 */
export const approvalWorkflow: Orchestrator<ApprovalRequest, string> = function* (ctx, request) {
  ctx.setCustomStatus({ waitingFor: 'Approval', requestId: request.requestId });
  const deadline = new Date(ctx.currentUtcDateTime.getTime() + request.timeoutMs);
  const timer = ctx.createTimer(deadline);
  const decision = ctx.waitForExternalEvent<boolean>('Approval');
  const winner = yield ctx.whenAny([decision, timer]);
  if (winner === decision) {
    timer.cancel();
    const approved: boolean = decision.result as boolean;
    ctx.setCustomStatus({ decided: approved });
    return approved ? 'Approved' : 'Rejected';
  }
  ctx.setCustomStatus({ expired: true });
  return 'Expired';
};
