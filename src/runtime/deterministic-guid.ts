import { createHash } from 'node:crypto';

/** Fixed namespace of the product's name-based UUIDs (a random constant). */
const NAMESPACE = Buffer.from('6f1c2a4e9b7d4c3f8e5a0d2b1c9f7e64', 'hex');

/**
 * A name-based UUID (version 5 layout: SHA-1 over a namespace and a name)
 * from the instance id, the execution id and a per-execution counter. The
 * same inputs always give the same UUID, so replays agree.
 */
export function deterministicGuid(instanceId: string, executionId: string,
  counter: number): string {
  const hash = createHash('sha1')
    .update(NAMESPACE)
    .update(`${instanceId}\u0000${executionId}\u0000${counter}`, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-` +
    `${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
