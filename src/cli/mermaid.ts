import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Renders an XState machine as a Mermaid state diagram, generated from the
 * machine's definition (never drawn by hand). Transitions between the same two
 * states are merged into one edge; a transition back to its own state is drawn
 * only when it runs actions (otherwise it is an accepted no-op).
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  renderChildren(machine.root, lines, '  ');
  return `${lines.join('\n')}\n`;
}

function renderChildren(parent: AnyStateNode, lines: string[], indent: string): void {
  const children = Object.values(parent.states) as AnyStateNode[];
  if (children.length === 0) return;
  const initial = parent.config.initial;
  if (typeof initial === 'string') lines.push(`${indent}[*] --> ${id(initial)}`);

  const edges = new Map<string, string[]>();
  for (const node of children) {
    if (Object.keys(node.states).length > 0) {
      lines.push(`${indent}state ${id(node.key)} {`);
      renderChildren(node, lines, `${indent}  `);
      lines.push(`${indent}}`);
    }
    for (const [eventType, transitions] of node.transitions) {
      for (const t of transitions) {
        const targets = (t.target ?? []) as AnyStateNode[];
        for (const target of targets) {
          const self = target === node;
          if (self && t.actions.length === 0) continue;
          const key = `${id(node.key)} --> ${id(target.key)}`;
          const label = eventLabel(eventType) + guardLabel(t.guard);
          const list = edges.get(key) ?? [];
          if (!list.includes(label)) list.push(label);
          edges.set(key, list);
        }
      }
    }
    if (node.type === 'final') lines.push(`${indent}${id(node.key)} --> [*]`);
  }
  for (const [edge, labels] of edges) lines.push(`${indent}${edge}: ${labels.join(', ')}`);
}

/** Mermaid state ids: letters, digits and underscores. */
function id(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_');
}

function eventLabel(eventType: string): string {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return `${done[1]} done`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error) return `${error[1]} failed`;
  // Colons would end the label early in Mermaid.
  return eventType.replace(/:/g, ' ');
}

function guardLabel(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return ` [${guard}]`;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    return ` [${String((guard as { type: unknown }).type)}]`;
  }
  return ' [guarded]';
}
