import type { AnyStateMachine } from 'xstate';
import {
  orchestrationMachine,
  partitionLeaseMachine,
  taskHubMachine,
  workItemMachine,
} from '../../actors/index.ts';
import { workerMachine } from '../../actors/worker.machine.ts';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import { isOrchestrationStatus, type OrchestrationStatus } from '../core/orchestration-status.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import type { Logger } from '../logging/logger.ts';
import { createNatsBackend } from '../nats/index.ts';
import { TaskHubClient } from '../runtime/index.ts';
import { explainInstance, historyTimeline } from './inspect.ts';
import { machineToMermaid } from './mermaid.ts';

export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  'task-hub': taskHubMachine,
  orchestration: orchestrationMachine,
  'work-item': workItemMachine,
  'partition-lease': partitionLeaseMachine,
  worker: workerMachine,
};

/** The positional arguments each command takes, as the usage names them; no more are accepted. */
export const ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  demo: ['[directory]'],
  diagram: ['<machine>'],
  start: ['<name>'],
  raise: ['<id>', '<event>'],
  terminate: ['<id>'],
  suspend: ['<id>'],
  resume: ['<id>'],
  status: ['<id>'],
  wait: ['<id>'],
  history: ['<id>'],
  explain: ['<id>'],
  query: [],
  purge: ['<id>'],
};

/**
 * The usage error for a command given more positional arguments than it takes, or
 * undefined when the count is fine; checked before anything is asked of the server.
 */
export function extraArguments(command: string, given: readonly string[]): string | undefined {
  const takes = ARGUMENTS[command];
  if (takes === undefined || given.length <= takes.length) return undefined;
  const extra = given
    .slice(takes.length)
    .map((a) => JSON.stringify(a))
    .join(' ');
  const form = [command, ...takes].join(' ');
  const n = takes.length;
  const count = n === 0 ? 'no arguments' : `at most ${n} argument${n === 1 ? '' : 's'}`;
  return `${command} takes ${count} (${form}); unexpected: ${extra}`;
}

export interface CommandContext {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/** `diagram <machine>`: the machine as a Mermaid state diagram, from its definition. */
export function diagramCommand(ctx: CommandContext): number {
  const name = ctx.positionals[0];
  const known = Object.keys(MACHINES).join(', ');
  if (name === undefined) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `diagram needs the name of a machine: one of ${known}.`,
    );
  }
  const machine = MACHINES[name];
  if (!machine) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `No machine ${JSON.stringify(name)}: diagram takes one of ${known}.`,
    );
  }
  ctx.out(machineToMermaid(machine).trimEnd());
  return 0;
}

/**
 * How a command meets the task hub: `start` provisions it when absent (its
 * first instance may come before any worker); every other command only works
 * on an existing hub and must leave a server without one untouched.
 */
type HubUse = 'provision' | 'existing';

/** Runs `fn` with a client connected to the hub named by --hub (or DT_HUB) on NATS_URL. */
async function withClient<T>(
  ctx: CommandContext,
  use: HubUse,
  fn: (client: TaskHubClient) => Promise<T>,
): Promise<T> {
  const servers = str(ctx.flags['server']) ?? process.env['NATS_URL'];
  const hub = str(ctx.flags['hub']) ?? process.env['DT_HUB'];
  if (!servers || !hub) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      'Name the server and the task hub: --server nats://host:port (or NATS_URL) and ' +
        '--hub <name> (or DT_HUB).',
    );
  }
  // Opening the backend only binds handles; nothing is created on the server until
  // createIfNotExists().
  const backend = await createNatsBackend({ servers, hub, logger: ctx.logger });
  try {
    if (use === 'provision') await backend.service.createIfNotExists();
    return await fn(new TaskHubClient({ backend, logger: ctx.logger }));
  } catch (err) {
    // Every client call first checks that the hub exists (INVALID_HUB_STATE when it does not).
    if (use === 'existing' && isDurableTaskError(err, 'INVALID_HUB_STATE')) {
      throw new DurableTaskError(
        ErrorCode.INVALID_HUB_STATE,
        `No task hub '${hub}' on ${servers}: create it by starting an instance with ` +
          '`durabletask-nats start <name>` or by running a worker on it.',
        { cause: err },
      );
    }
    throw err;
  } finally {
    await backend.close();
  }
}

/** What status, history, wait, explain and purge print for an id with no status record. */
function noSuchInstance(ctx: CommandContext, id: string): number {
  ctx.out(`No such instance ${JSON.stringify(id)}.`);
  return 1;
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function needId(ctx: CommandContext, command: string): string {
  const id = ctx.positionals[0];
  if (id === undefined) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, `${command} needs an instance id.`);
  }
  return id;
}

/**
 * A flag given in whole milliseconds (`--timeout 30000`), or `fallback` when absent.
 * Parsed here so that a bad value is named as typed, before anything is asked of the server.
 */
function milliseconds(ctx: CommandContext, flag: string, fallback: number): number {
  const text = str(ctx.flags[flag]);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `--${flag} must be a whole number of milliseconds, got ${JSON.stringify(text)}.`,
    );
  }
  return Number(text);
}

function json(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new DurableTaskError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must be JSON (for a string, quote it: '"text"'), got ${JSON.stringify(text)}.`,
    );
  }
}

function printState(out: (line: string) => void, s: OrchestrationState): void {
  out(`instance   ${s.orchestrationInstance.instanceId}`);
  out(`execution  ${s.orchestrationInstance.executionId}`);
  out(`name       ${s.name}${s.version ? ` (version ${s.version})` : ''}`);
  out(`status     ${s.orchestrationStatus}`);
  if (s.customStatus != null) out(`custom     ${s.customStatus}`);
  out(`created    ${s.createdTime.toISOString()}`);
  out(`updated    ${s.lastUpdatedTime.toISOString()}`);
  if (s.completedTime) out(`completed  ${s.completedTime.toISOString()}`);
  if (s.scheduledStartTime) out(`scheduled  ${s.scheduledStartTime.toISOString()}`);
  if (s.input !== undefined) out(`input      ${s.input}`);
  if (s.output !== undefined) out(`output     ${s.output}`);
  if (s.tags) out(`tags       ${JSON.stringify(s.tags)}`);
}

export const COMMANDS: Readonly<Record<string, (ctx: CommandContext) => Promise<number>>> = {
  diagram: async (ctx) => diagramCommand(ctx),

  start: (ctx) =>
    withClient(ctx, 'provision', async (client) => {
      const name = ctx.positionals[0];
      if (!name) throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'start needs a name.');
      const id = str(ctx.flags['id']);
      const input = json(str(ctx.flags['input']), '--input');
      const created = await client.createOrchestrationInstance(name, {
        ...(id !== undefined ? { instanceId: id } : {}),
        ...(input !== undefined ? { input } : {}),
      });
      ctx.out(`${created.instanceId} ${created.executionId}`);
      return 0;
    }),

  raise: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'raise');
      const event = ctx.positionals[1];
      if (!event) throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'raise needs an event.');
      await client.raiseEvent(id, event, json(str(ctx.flags['data']), '--data'));
      return 0;
    }),

  terminate: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      await client.terminate(needId(ctx, 'terminate'), str(ctx.flags['reason']) ?? '', {
        recursive: ctx.flags['recursive'] === true,
      });
      return 0;
    }),

  suspend: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      await client.suspend(needId(ctx, 'suspend'), str(ctx.flags['reason']));
      return 0;
    }),

  resume: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      await client.resume(needId(ctx, 'resume'), str(ctx.flags['reason']));
      return 0;
    }),

  status: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'status');
      const state = await client.getOrchestrationState(id);
      if (!state) return noSuchInstance(ctx, id);
      printState(ctx.out, state);
      return 0;
    }),

  wait: async (ctx) => {
    const timeoutMs = milliseconds(ctx, 'timeout', 60_000);
    return withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'wait');
      // An unknown id would only run out the timeout: say at once that it does not exist.
      if (!(await client.getOrchestrationState(id))) return noSuchInstance(ctx, id);
      const state = await client.waitForOrchestration(id, { timeoutMs });
      if (!state) {
        ctx.out(`not finished within ${timeoutMs} ms`);
        return 1;
      }
      printState(ctx.out, state);
      return state.orchestrationStatus === 'Completed' ? 0 : 1;
    });
  },

  history: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'history');
      const executionId = str(ctx.flags['execution']);
      // No history is either an instance before its first episode or one that does not
      // exist: only the status record tells them apart.
      if (!(await client.getOrchestrationState(id))) return noSuchInstance(ctx, id);
      if (executionId !== undefined && !(await client.getOrchestrationState(id, { executionId }))) {
        ctx.out(`No execution ${JSON.stringify(executionId)} of instance ${JSON.stringify(id)}.`);
        return 1;
      }
      const events = await client.getOrchestrationHistory(id, executionId);
      for (const line of historyTimeline(events)) ctx.out(line);
      return 0;
    }),

  explain: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'explain');
      const state = await client.getOrchestrationState(id);
      if (!state) return noSuchInstance(ctx, id);
      const events = await client.getOrchestrationHistory(id);
      const why = explainInstance(state, events);
      ctx.out(`status: ${why.status}`);
      ctx.out(why.summary);
      const received = Object.entries(why.eventsReceived);
      if (received.length > 0) {
        ctx.out(`events received: ${received.map(([n, c]) => `${n} x${c}`).join(', ')}`);
      }
      return 0;
    }),

  query: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const statuses = (str(ctx.flags['status']) ?? '').split(',').filter(Boolean);
      for (const s of statuses) {
        if (!isOrchestrationStatus(s)) {
          throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, `Unknown status ${s}.`);
        }
      }
      const prefix = str(ctx.flags['prefix']);
      let token: string | null = null;
      let count = 0;
      // Bounded: each page advances the continuation token; at most 10,000 pages.
      for (let page = 0; page < 10_000; page++) {
        const result = await client.queryInstances({
          ...(statuses.length > 0 ? { runtimeStatus: statuses as OrchestrationStatus[] } : {}),
          ...(prefix !== undefined ? { instanceIdPrefix: prefix } : {}),
          pageSize: 100,
          continuationToken: token,
        });
        for (const s of result.orchestrationState) {
          count++;
          ctx.out(
            `${s.orchestrationStatus.padEnd(14)} ${s.createdTime.toISOString()} ` +
              `${s.name.padEnd(20)} ${s.orchestrationInstance.instanceId}`,
          );
        }
        token = result.continuationToken;
        if (!token) break;
      }
      ctx.out(`${count} instance(s)`);
      return 0;
    }),

  purge: (ctx) =>
    withClient(ctx, 'existing', async (client) => {
      const id = needId(ctx, 'purge');
      const result = await client.purgeInstance(id, {
        recursive: ctx.flags['recursive'] === true,
      });
      // A running instance is refused with NOT_COMPLETED; nothing purged means no record.
      if (result.deletedInstanceCount === 0) return noSuchInstance(ctx, id);
      ctx.out(`purged ${result.deletedInstanceCount} instance(s)`);
      return 0;
    }),
};
