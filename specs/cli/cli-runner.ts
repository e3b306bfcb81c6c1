import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { createNatsBackend, TaskHubClient } from '../../src/index.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs the command line against `url` and `hub`; a run cut off by the safety timeout is -1. */
export async function runCli(url: string, hub: string, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      'node',
      ['--import', 'tsx', 'src/cli/main.ts', ...args, '--server', url, '--hub', hub],
      { cwd: ROOT, timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'silent' } },
    );
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    return {
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
      code: typeof e.code === 'number' ? e.code : -1,
    };
  }
}

/** Provisions `hub` with one instance, `pending-1`, that never runs (no worker, no history). */
export async function hubWithPendingInstance(url: string, hub: string): Promise<void> {
  const backend = await createNatsBackend({ servers: url, hub, partitions: 2 });
  try {
    await backend.service.createIfNotExists();
    await new TaskHubClient({ backend }).createOrchestrationInstance('Never', {
      instanceId: 'pending-1',
    });
  } finally {
    await backend.close();
  }
}

/**
 * For the current suite: a nats-server and a hub (prefix `prefix`) holding the
 * Pending instance `pending-1`, set up before its tests and stopped after;
 * returns the command line bound to them.
 */
export function cliOnPendingHub(prefix: string): (...args: string[]) => Promise<CliResult> {
  let server: TestNatsServer | undefined;
  const hub = uniqueHubName(prefix);
  before(async () => {
    server = await startTestNatsServer();
    await hubWithPendingInstance(server.url, hub);
  });
  after(async () => {
    await server?.stop();
  });
  return (...args) => runCli((server as TestNatsServer).url, hub, ...args);
}
