import { createHash } from 'node:crypto';
import { MAX_INSTANCE_ID_LENGTH } from '../core/validation.ts';

/**
 * The default id of a sub-orchestration: the parent's id, ':' and the action
 * id in hex (at least 4 digits), deterministic across replays. When that
 * would pass the id length limit, the parent's id is cut and a hash of the
 * whole of it keeps children of different long parents apart:
 * `<first code points>~<8 hex of sha-256>:<action id>`.
 */
export function defaultChildInstanceId(parentId: string, actionId: number): string {
  const suffix = `:${actionId.toString(16).padStart(4, '0')}`;
  const parent = [...parentId];
  if (parent.length + suffix.length <= MAX_INSTANCE_ID_LENGTH) return parentId + suffix;
  const hash = createHash('sha256').update(parentId, 'utf8').digest('hex').slice(0, 8);
  const keep = MAX_INSTANCE_ID_LENGTH - suffix.length - hash.length - 1;
  return `${parent.slice(0, keep).join('')}~${hash}${suffix}`;
}
