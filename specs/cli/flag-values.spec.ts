import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createNatsBackend, TaskHubClient } from '../../src/index.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

describe('command line numeric flags', () => {
  let server: TestNatsServer;
  const hub = uniqueHubName('cliflags');

  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run(
        'node',
        ['--import', 'tsx', 'src/cli/main.ts', ...args, '--server', server.url, '--hub', hub],
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
  };

  before(async () => {
    server = await startTestNatsServer();
    // A provisioned hub with one instance that never runs (no worker).
    const backend = await createNatsBackend({ servers: server.url, hub, partitions: 2 });
    try {
      await backend.service.createIfNotExists();
      await new TaskHubClient({ backend }).createOrchestrationInstance('Never', {
        instanceId: 'pending-1',
      });
    } finally {
      await backend.close();
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('should name the text of a --timeout that is not a number', async () => {
    const result = await cli('wait', 'pending-1', '--timeout', 'abc');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'error [INVALID_ARGUMENT]: --timeout must be a whole number of milliseconds, got "abc".\n',
    );
  });

  it('should refuse a --timeout that is empty, negative, fractional or has a unit', async () => {
    for (const text of ['', '-5', '1.5', '10s', ' 100']) {
      const result = await cli('wait', 'pending-1', `--timeout=${text}`);
      assert.equal(result.code, 1, `${JSON.stringify(text)}: ${result.stderr}`);
      assert.ok(
        result.stderr.includes(
          `--timeout must be a whole number of milliseconds, got ` + `${JSON.stringify(text)}.`,
        ),
        result.stderr,
      );
    }
  });

  it('should check --timeout before it looks the instance up', async () => {
    const result = await cli('wait', 'nobody', '--timeout', 'soon');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /--timeout must be a whole number of milliseconds, got "soon"/);
  });

  it('should still wait for a --timeout in whole milliseconds', async () => {
    const result = await cli('wait', 'pending-1', '--timeout', '200');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'not finished within 200 ms\n');
    assert.equal(result.stderr, '');
  });
});
