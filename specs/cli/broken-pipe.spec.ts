import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createNatsBackend, TaskHubClient } from '../../src/index.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** More than one query page (100), so the command still has rows to print when the pipe breaks. */
const INSTANCES = 150;

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs the command line with stdout on a pipe whose read side is closed at once, as
 * `... | head -0` would; collects stderr. A run past the safety timeout is killed (by PID).
 */
function runWithClosedStdout(url: string, hub: string, args: readonly string[]): Promise<Ended> {
  const child = spawn(
    'node',
    ['--import', 'tsx', 'src/cli/main.ts', ...args, '--server', url, '--hub', hub],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((done) => {
    const safety = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(safety);
      done({ code, signal, stderr });
    });
  });
}

describe('command line writing into a closed pipe', () => {
  let server: TestNatsServer;
  const hub = uniqueHubName('clipipe');

  before(async () => {
    server = await startTestNatsServer();
    const backend = await createNatsBackend({ servers: server.url, hub, partitions: 2 });
    try {
      await backend.service.createIfNotExists();
      const client = new TaskHubClient({ backend });
      for (let i = 0; i < INSTANCES; i++) {
        await client.createOrchestrationInstance('Never', { instanceId: `known${i}` });
      }
    } finally {
      await backend.close();
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('should end status quietly with code 0 when the reader has gone', async () => {
    const ended = await runWithClosedStdout(server.url, hub, ['status', 'known1']);
    assert.equal(ended.signal, null, 'killed by the safety timeout');
    assert.doesNotMatch(ended.stderr, /EPIPE/);
    assert.equal(ended.stderr, '');
    assert.equal(ended.code, 0);
  });

  it('should end a query of many rows quietly with code 0 when the reader has gone', async () => {
    const ended = await runWithClosedStdout(server.url, hub, ['query']);
    assert.equal(ended.signal, null, 'killed by the safety timeout');
    assert.doesNotMatch(ended.stderr, /EPIPE/);
    assert.equal(ended.stderr, '');
    assert.equal(ended.code, 0);
  });
});
