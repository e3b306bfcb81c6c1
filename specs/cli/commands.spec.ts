import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createNatsBackend, TaskHubWorker, type Orchestrator } from '../../src/index.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

const waitForGo: Orchestrator<string, string> = function* (ctx, who) {
  ctx.setCustomStatus('waiting');
  const go: string = yield ctx.waitForExternalEvent('go');
  return `${go} ${who}`;
};

describe('command line on a running hub', () => {
  let server: TestNatsServer;
  const hub = uniqueHubName('cli');
  let stopWorker: () => Promise<void>;

  const cli = async (
    ...args: string[]
  ): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const { stdout, stderr } = await run(
        'node',
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        {
          cwd: ROOT,
          timeout: 60_000,
          env: { ...process.env, NATS_URL: server.url, DT_HUB: hub, LOG_LEVEL: 'silent' },
        },
      );
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
    }
  };

  before(async () => {
    server = await startTestNatsServer();
    // A worker with its own partition count: the command line adopts it.
    const backend = await createNatsBackend({ servers: server.url, hub, partitions: 2 });
    const worker = new TaskHubWorker({ backend });
    worker.addOrchestration('WaitForGo', waitForGo);
    await worker.start();
    stopWorker = async () => {
      await worker.stop();
      await backend.close();
    };
  });

  after(async () => {
    await stopWorker?.();
    await server?.stop();
  });

  it('should start, explain, raise, wait for and show the history of an instance', async () => {
    const started = await cli('start', 'WaitForGo', '--id', 'cli/1', '--input', '"world"');
    assert.equal(started.code, 0);
    assert.match(started.stdout, /^cli\/1 [0-9a-f]{32}\n$/);

    // The first episode may not have run yet: poll explain a bounded number of times.
    let explained = '';
    for (let i = 0; i < 50 && !/Running/.test(explained); i++) {
      explained = (await cli('explain', 'cli/1')).stdout;
    }
    assert.match(explained, /status: Running/);
    assert.match(explained, /waiting for an external event/);

    assert.equal((await cli('raise', 'cli/1', 'go', '--data', '"hello"')).code, 0);
    const waited = await cli('wait', 'cli/1', '--timeout', '30000');
    assert.equal(waited.code, 0, waited.stdout);
    assert.match(waited.stdout, /status +Completed/);
    assert.match(waited.stdout, /output +"hello world"/);

    const timeline = await cli('history', 'cli/1');
    assert.match(timeline.stdout, /EventRaised +go data="hello"/);
    assert.match(timeline.stdout, /=> current state: completed/);
  });

  it('should purge a finished instance once, then say it no longer exists', async () => {
    assert.equal((await cli('start', 'WaitForGo', '--id', 'cli/purge')).code, 0);
    assert.equal((await cli('raise', 'cli/purge', 'go', '--data', '"bye"')).code, 0);
    const waited = await cli('wait', 'cli/purge', '--timeout', '30000');
    assert.equal(waited.code, 0, waited.stdout);

    const purged = await cli('purge', 'cli/purge');
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(purged.stdout, 'purged 1 instance(s)\n');

    const again = await cli('purge', 'cli/purge');
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stdout, 'No such instance "cli/purge".\n');
  });

  it('should refuse to purge a running instance with NOT_COMPLETED', async () => {
    assert.equal((await cli('start', 'WaitForGo', '--id', 'cli/live')).code, 0);
    const purged = await cli('purge', 'cli/live');
    assert.equal(purged.code, 1, purged.stderr);
    assert.equal(purged.stdout, '');
    assert.match(purged.stderr, /^error \[NOT_COMPLETED\]: Instance "cli\/live" is /);
    // Left as it was: terminate it so the hub's worker has nothing open at the end.
    assert.equal((await cli('terminate', 'cli/live', '--reason', 'test over')).code, 0);
  });

  it('should explain a suspended instance and give the reason a terminated one ended', async () => {
    assert.equal((await cli('start', 'WaitForGo', '--id', 'cli/held')).code, 0);
    let status = '';
    for (let i = 0; i < 50 && !/Running/.test(status); i++) {
      status = (await cli('status', 'cli/held')).stdout;
    }
    assert.equal((await cli('suspend', 'cli/held')).code, 0);
    let explained = '';
    for (let i = 0; i < 50 && !/Suspended/.test(explained); i++) {
      explained = (await cli('explain', 'cli/held')).stdout;
    }
    assert.match(explained, /^Suspended: events are kept until it is resumed\. It has no open/m);

    assert.equal((await cli('terminate', 'cli/held', '--reason', 'no longer needed')).code, 0);
    const waited = await cli('wait', 'cli/held', '--timeout', '30000');
    assert.match(waited.stdout, /status +Terminated/);
    const ended = await cli('explain', 'cli/held');
    assert.match(ended.stdout, /^Finished: Terminated: "no longer needed"$/m);
    const timeline = await cli('history', 'cli/held');
    assert.match(timeline.stdout, /ExecutionSuspended {17}\[suspended\]/);
    assert.doesNotMatch(timeline.stdout, /\+ ?-/);
  });

  it('should exit non-zero with a coded error for a bad command line', async () => {
    assert.equal((await cli('status')).code, 1);
    assert.equal((await cli('diagram', 'nope')).code, 1);
    assert.equal((await cli('frobnicate')).code, 2);
  });
});
