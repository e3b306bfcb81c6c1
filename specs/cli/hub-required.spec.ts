import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';
import { hubWithPendingInstance, runCli as cli } from './cli-runner.ts';

/** Names of the JetStream streams that belong to `hub`, read with the client library. */
async function hubStreams(url: string, hub: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.includes(`DT_${hub}_`)) names.push(name);
    }
    return names;
  } finally {
    await nc.close();
  }
}

describe('command line on a server without the task hub', () => {
  let server: TestNatsServer;
  const hub = uniqueHubName('cliabsent');

  before(async () => {
    server = await startTestNatsServer();
  });

  after(async () => {
    await server?.stop();
  });

  const commands: readonly (readonly string[])[] = [
    ['status', 'order-42'],
    ['history', 'order-42'],
    ['explain', 'order-42'],
    ['wait', 'order-42', '--timeout', '1000'],
    ['query'],
    ['raise', 'order-42', 'go'],
    ['terminate', 'order-42'],
    ['suspend', 'order-42'],
    ['resume', 'order-42'],
    ['purge', 'order-42'],
  ];

  it('should say the hub is missing, exit 1 and create nothing, for all but start', async () => {
    for (const args of commands) {
      const result = await cli(server.url, hub, ...args);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /No task hub '[^']+' on nats:\/\/127\.0\.0\.1:\d+/, args[0]);
      assert.ok(result.stderr.includes(`'${hub}'`), result.stderr);
    }
    assert.deepEqual(await hubStreams(server.url, hub), []);
  });

  it('should name start and a worker as the ways to create the missing hub', async () => {
    const result = await cli(server.url, hub, 'status', 'order-42');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error \[INVALID_HUB_STATE\]: No task hub /);
    assert.ok(result.stderr.includes('`durabletask-nats start <name>`'), result.stderr);
    assert.match(result.stderr, /or by running a worker on it\.\n$/);
    assert.doesNotMatch(result.stderr, /demo/);
  });

  it('should create the hub on start', async () => {
    const other = uniqueHubName('clistart');
    const started = await cli(server.url, other, 'start', 'Anything', '--id', 'first');
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^first [0-9a-f]{32}\n$/);
    const streams = await hubStreams(server.url, other);
    assert.ok(streams.includes(`KV_DT_${other}_META`), streams.join(', '));
    // The status of what start created is then readable without a worker.
    const status = await cli(server.url, other, 'status', 'first');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /status +Pending/);
  });
});

describe('command line on an unknown instance', () => {
  let server: TestNatsServer;
  const hub = uniqueHubName('cliunknown');

  before(async () => {
    server = await startTestNatsServer();
    // A provisioned hub with one instance that never runs (no worker): it has no history.
    await hubWithPendingInstance(server.url, hub);
  });

  after(async () => {
    await server?.stop();
  });

  it('should say No such instance and exit 1 from history', async () => {
    const result = await cli(server.url, hub, 'history', 'nobody');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'No such instance "nobody".\n');
  });

  it('should say No such instance and exit 1 from history of an execution', async () => {
    const result = await cli(server.url, hub, 'history', 'nobody', '--execution', 'e1');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'No such instance "nobody".\n');
  });

  it('should keep the no-history message for an instance before its first episode', async () => {
    const result = await cli(server.url, hub, 'history', 'pending-1');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no history: the instance has not run an episode yet/);
  });

  it('should say No such instance and exit 1 from wait at once', async () => {
    // The wait's own timeout is far beyond the run's 60 s safety timeout: only an answer
    // that does not wait can exit 1 with the message.
    const result = await cli(server.url, hub, 'wait', 'nobody', '--timeout', '600000');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'No such instance "nobody".\n');
  });

  it('should say No such instance and exit 1 from purge', async () => {
    const result = await cli(server.url, hub, 'purge', 'nobody');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'No such instance "nobody".\n');
    assert.equal(result.stderr, '');
  });

  it('should say No such instance and exit 1 from status and explain', async () => {
    for (const command of ['status', 'explain']) {
      const result = await cli(server.url, hub, command, 'nobody');
      assert.equal(result.code, 1, `${command}: ${result.stderr}`);
      assert.equal(result.stdout, 'No such instance "nobody".\n', command);
    }
  });
});
