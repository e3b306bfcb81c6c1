import type { Tags } from '../core/history-event.ts';

/** Tag that marks a child started with `startSubOrchestration`: it does not report back. */
export const FIRE_AND_FORGET_TAG = 'FireAndForget';

/** Child tags over the parent's; the parent's fire-and-forget mark is never inherited. */
export function mergeChildTags(parent: Tags | undefined, child: Tags | undefined,
  fireAndForget: boolean): Tags | undefined {
  if (!parent && !child && !fireAndForget) return undefined;
  const merged: Record<string, string> = { ...parent };
  delete merged[FIRE_AND_FORGET_TAG];
  Object.assign(merged, child);
  if (fireAndForget) merged[FIRE_AND_FORGET_TAG] = 'true';
  return merged;
}

export function isFireAndForget(tags: Tags | undefined): boolean {
  return tags?.[FIRE_AND_FORGET_TAG] === 'true';
}
