import { DurableTaskError, ErrorCode } from './errors.ts';

/** Longest instance id, in Unicode code points. */
export const MAX_INSTANCE_ID_LENGTH = 256;
const HUB_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Instance ids are any non-empty string of at most 256 code points: dots,
 * spaces, `*`, `>` and `/` included. Lone surrogates are refused because they
 * cannot be encoded as UTF-8 and back.
 */
export function validateInstanceId(id: unknown, what = 'instance id'): string {
  if (typeof id !== 'string') {
    throw new DurableTaskError(
      ErrorCode.INVALID_INSTANCE_ID,
      `The ${what} must be a string, got ${id === null ? 'null' : typeof id}.`,
    );
  }
  if (id.length === 0) {
    throw new DurableTaskError(ErrorCode.INVALID_INSTANCE_ID, `The ${what} must not be empty.`);
  }
  let count = 0;
  for (const _ of id) {
    count++;
    if (count > MAX_INSTANCE_ID_LENGTH) break;
  }
  if (count > MAX_INSTANCE_ID_LENGTH) {
    throw new DurableTaskError(
      ErrorCode.INVALID_INSTANCE_ID,
      `The ${what} is longer than ${MAX_INSTANCE_ID_LENGTH} characters ` +
        `(${[...id].length} given): ${JSON.stringify(id.slice(0, 40))}…`,
    );
  }
  if (!id.isWellFormed()) {
    throw new DurableTaskError(
      ErrorCode.INVALID_INSTANCE_ID,
      `The ${what} contains a lone UTF-16 surrogate and cannot be stored: ${JSON.stringify(id)}.`,
    );
  }
  return id;
}

/** Hub names: letters, digits, `_` and `-`, 1 to 32 characters. */
export function validateHubName(name: unknown): string {
  if (typeof name !== 'string' || !HUB_NAME.test(name)) {
    throw new DurableTaskError(
      ErrorCode.INVALID_HUB_NAME,
      `Invalid task hub name ${JSON.stringify(name)}: use 1 to 32 letters, digits, '_' or '-'.`,
    );
  }
  return name;
}

/** Longest orchestration, activity, event name or version, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 1024;

/** Orchestration, activity and event names: non-empty strings of at most 1024 characters. */
export function validateName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `The ${what} name must be a non-empty string, got ${JSON.stringify(name)}.`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `The ${what} name is longer than ${MAX_NAME_LENGTH} characters (${name.length} given): ` +
        `${JSON.stringify(name.slice(0, 40))}…`,
    );
  }
  return name;
}

/** Largest set of tags, as JSON text (UTF-16 code units). */
export const MAX_TAGS_LENGTH = 16 * 1024;

/**
 * Tags: a plain object of string values whose JSON text is at most 16 KiB
 * (they travel in every start and status record). `what` names the owner:
 * "orchestration", "activity", ...
 */
export function validateTags(tags: unknown, what: string): Record<string, string> | undefined {
  if (tags === undefined) return undefined;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The ${what} tags must be an object whose values are strings.`);
  }
  let length = 2;
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `The ${what} tag ${JSON.stringify(k.slice(0, 80))} must be a string, got ${typeof v}.`);
    }
    length += k.length + v.length + 6;
  }
  if (length > MAX_TAGS_LENGTH) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The ${what} tags take about ${length} characters; at most ${MAX_TAGS_LENGTH} are allowed.`);
  }
  return tags as Record<string, string>;
}

/** A version: a string (empty when undefined) of at most 1024 characters. */
export function validateVersion(version: unknown, what: string): string {
  if (version === undefined) return '';
  if (typeof version !== 'string') {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The ${what} version must be a string, got ${typeof version}.`);
  }
  if (version.length > MAX_NAME_LENGTH) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The ${what} version is longer than ${MAX_NAME_LENGTH} characters ` +
        `(${version.length} given).`);
  }
  return version;
}

export function validateTimeoutMs(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `The ${what} must be a non-negative number of milliseconds, got ` +
        `${typeof ms === 'string' ? `the string ${JSON.stringify(ms)}` : String(ms)}.`,
    );
  }
  return ms;
}
