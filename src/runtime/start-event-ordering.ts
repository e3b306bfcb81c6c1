import type { TaskMessage } from '../core/task-message.ts';

const NO_PREVIOUS = Symbol('no previous message');

/**
 * Moves a top-level `ExecutionStarted` in front of the client messages
 * (messages without an execution id) that overtook it, so that a batch for a
 * new instance starts with its start event. Walks the batch keeping the
 * previous message's execution id; every change of id marks a new target
 * position, unless the previous id was absent. Stops at the first start
 * event. Returns the same array when nothing moves.
 */
export function ensureExecutionStartedIsFirst(
  messages: readonly TaskMessage[]): readonly TaskMessage[] {
  let previous: string | null | typeof NO_PREVIOUS = NO_PREVIOUS;
  let target = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as TaskMessage;
    const exec = m.orchestrationInstance.executionId ?? null;
    if (exec !== previous && previous !== null) target = i;
    previous = exec;
    if (m.event.type !== 'ExecutionStarted') continue;
    if (m.event.parentInstance || i === target) return messages;
    const out = messages.slice();
    out.splice(i, 1);
    out.splice(target, 0, m);
    return out;
  }
  return messages;
}
