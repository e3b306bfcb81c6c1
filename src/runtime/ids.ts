import { randomUUID } from 'node:crypto';

/**
 * A new random id: 32 lowercase hex digits, as DTFx mints execution ids.
 * Built from a v4 UUID (122 random bits), which Node draws from a buffered
 * entropy pool, so minting is cheap.
 */
export function newId32(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
}
