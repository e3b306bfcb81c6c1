import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type {
  OrchestrationQuery,
  OrchestrationQueryResult,
  PurgeInstanceFilter,
} from '../core/orchestration-service-client.ts';
import {
  isOrchestrationStatus,
  isTerminalStatus,
  type OrchestrationStatus,
} from '../core/orchestration-status.ts';
import type { InstanceRecord } from './memory-store.ts';
import { copyState } from './records.ts';

const MAX_PAGE_SIZE = 10_000;
const TERMINAL: readonly OrchestrationStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, message);
}

function optionalDate(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalid(`The ${name} must be a valid Date, got ${String(value)}.`);
  }
  return value;
}

function statusList(value: unknown, name: string): readonly OrchestrationStatus[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(isOrchestrationStatus)) {
    throw invalid(`The ${name} must be an array of orchestration statuses, ` +
      `got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Created-time window check: from inclusive, to exclusive. */
function inWindow(created: Date, from: Date | undefined, to: Date | undefined): boolean {
  const t = created.getTime();
  return (from === undefined || t >= from.getTime()) && (to === undefined || t < to.getTime());
}

export interface CheckedPurgeFilter {
  readonly from: Date;
  readonly to: Date | undefined;
  readonly statuses: ReadonlySet<OrchestrationStatus>;
  readonly timeoutMs: number | null;
}

/** Checks a purge filter; non-terminal statuses in it are ignored (live instances stay). */
export function checkPurgeFilter(filter: PurgeInstanceFilter): CheckedPurgeFilter {
  if (typeof filter !== 'object' || filter === null) {
    throw invalid('The purge filter must be an object.');
  }
  const from = optionalDate(filter.createdTimeFrom, 'createdTimeFrom');
  if (!from) throw invalid('The purge filter needs createdTimeFrom.');
  const to = optionalDate(filter.createdTimeTo, 'createdTimeTo');
  const statuses = (statusList(filter.runtimeStatus, 'runtimeStatus') ?? TERMINAL)
    .filter(isTerminalStatus);
  const timeoutMs = filter.timeoutMs ?? null;
  if (timeoutMs !== null && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
    throw invalid(`The purge timeoutMs must be a non-negative number, got ${String(timeoutMs)}.`);
  }
  return { from, to, statuses: new Set(statuses), timeoutMs };
}

export function matchesPurge(rec: InstanceRecord, f: CheckedPurgeFilter): boolean {
  const state = rec.current.state;
  return f.statuses.has(state.orchestrationStatus) && inWindow(state.createdTime, f.from, f.to);
}

function encodeToken(afterId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterId }), 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    const after = (parsed as { v?: unknown; after?: unknown }).after;
    if ((parsed as { v?: unknown }).v === 1 && typeof after === 'string') return after;
  } catch {
    // reported below
  }
  throw invalid(`The continuation token ${JSON.stringify(token)} is not one this backend issued.`);
}

/**
 * One page of the latest status of matching instances, ordered by instance
 * id; the token names the last id returned and is null when no match is left.
 */
export function queryInstances(
  instances: ReadonlyMap<string, InstanceRecord>,
  query: OrchestrationQuery,
): OrchestrationQueryResult {
  if (typeof query !== 'object' || query === null) throw invalid('The query must be an object.');
  const statuses = statusList(query.runtimeStatus, 'runtimeStatus');
  const from = optionalDate(query.createdTimeFrom, 'createdTimeFrom');
  const to = optionalDate(query.createdTimeTo, 'createdTimeTo');
  const prefix = query.instanceIdPrefix;
  if (prefix !== undefined && typeof prefix !== 'string') {
    throw invalid('The instanceIdPrefix must be a string.');
  }
  if (query.name !== undefined && typeof query.name !== 'string') {
    throw invalid('The name filter must be a string.');
  }
  const pageSize = query.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalid(`The pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, ` +
      `got ${String(pageSize)}.`);
  }
  const token = query.continuationToken ?? null;
  if (token !== null && typeof token !== 'string') {
    throw invalid('The continuationToken must be a string or null.');
  }
  const after = token === null ? undefined : decodeToken(token);
  const withPayloads = query.fetchInputsAndOutputs ?? true;
  const statusSet = statuses ? new Set(statuses) : undefined;

  const matches = (rec: InstanceRecord): boolean => {
    const s = rec.current.state;
    return (statusSet === undefined || statusSet.has(s.orchestrationStatus)) &&
      (query.name === undefined || s.name === query.name) &&
      (prefix === undefined || rec.instanceId.startsWith(prefix)) &&
      inWindow(s.createdTime, from, to);
  };
  const ids = [...instances.keys()]
    .filter((id) => after === undefined || id > after)
    .sort();
  const page: InstanceRecord[] = [];
  let more = false;
  for (const id of ids) {
    const rec = instances.get(id)!;
    if (!matches(rec)) continue;
    if (page.length === pageSize) {
      more = true;
      break;
    }
    page.push(rec);
  }
  const last = page[page.length - 1];
  return {
    orchestrationState: page.map((r) => copyState(r.current.state, withPayloads)),
    continuationToken: more && last ? encodeToken(last.instanceId) : null,
  };
}
