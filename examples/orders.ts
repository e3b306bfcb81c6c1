import type { Activity, Orchestrator } from '../src/runtime/index.ts';

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface Order {
  readonly orderId: string;
  readonly lines: readonly OrderLine[];
}

export interface OrderResult {
  readonly orderId: string;
  readonly totalCents: number;
  readonly reservations: readonly string[];
}

/** Activity: reserves stock for one order line and returns a reservation id. */
export const reserveStock: Activity<OrderLine, string> = (ctx, line) => {
  if (line.quantity <= 0) throw new RangeError(`quantity must be positive for ${line.sku}`);
  return `${line.sku}x${line.quantity}@${ctx.instanceId}`;
};

/** Activity: charges a total, returning a receipt. */
export const chargePayment: Activity<{ orderId: string; totalCents: number }, string> = (
  _ctx,
  charge,
) => `receipt-${charge.orderId}-${charge.totalCents}`;

/** Sub-orchestration: processes one order (reserve every line in parallel, then charge). */
export const processOrder: Orchestrator<Order, OrderResult> = function* (ctx, order) {
  const reservations: string[] = yield ctx.whenAll(
    order.lines.map((line) => ctx.callActivity<string>('ReserveStock', line)),
  );
  const totalCents = order.lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
  yield ctx.callActivity('ChargePayment', { orderId: order.orderId, totalCents });
  return { orderId: order.orderId, totalCents, reservations };
};

/**
 * Parent orchestration: runs one `ProcessOrder` sub-orchestration per order,
 * each with a deterministic child instance id, and sums the totals.
 */
export const processOrderBatch: Orchestrator<
  readonly Order[],
  { orders: number; totalCents: number }
> = function* (ctx, orders) {
  const results: OrderResult[] = yield ctx.whenAll(
    orders.map((order) =>
      ctx.callSubOrchestration<OrderResult>('ProcessOrder', order, {
        instanceId: `${ctx.instanceId}/order/${order.orderId}`,
      }),
    ),
  );
  return { orders: results.length, totalCents: results.reduce((s, r) => s + r.totalCents, 0) };
};
