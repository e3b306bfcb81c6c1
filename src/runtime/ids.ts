import { randomBytes } from 'node:crypto';

/** A new random id: 32 lowercase hex digits (128 bits), as DTFx mints execution ids. */
export function newId32(): string {
  return randomBytes(16).toString('hex');
}
