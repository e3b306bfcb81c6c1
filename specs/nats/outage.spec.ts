import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { startNatsServer, type EmbeddedServer } from '../../src/embedded/nats-server.ts';
import { createNatsBackend, type NatsBackend } from '../../src/nats/index.ts';
import { TaskHubClient } from '../../src/runtime/task-hub-client.ts';
import { TaskHubWorker } from '../../src/runtime/task-hub-worker.ts';
import { uniqueHubName } from '../support/nats-server.ts';

/** Short reconnect pause: the client's old limit (10 attempts) would be spent in 2 s. */
const RECONNECT_WAIT_MS = 200;
/** Longer than 10 reconnect attempts, the limit that used to close the connection. */
const OUTAGE_MS = 4_000;
const SAFETY_MS = 60_000;

function capture(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' },
    { write: (s: string) => lines.push(JSON.parse(s)) }) as unknown as Logger;
  return { lines, logger };
}

/** Polls `check` (bounded by count and time) until it holds. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SAFETY_MS;
  for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Retries a client call that may fail with BACKEND_ERROR while the server comes back. */
async function retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SAFETY_MS;
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (!isDurableTaskError(err, 'BACKEND_ERROR') || i >= 200 || Date.now() > deadline) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('NATS backend across a server outage', () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'dt-nats-outage-'));
  let server: EmbeddedServer | undefined;
  const backends: NatsBackend[] = [];

  after(async () => {
    for (const b of backends) await b.close().catch(() => undefined);
    await server?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('should wait out an outage longer than the old reconnect limit and finish old and new work',
    { timeout: 3 * SAFETY_MS }, async () => {
    server = await startNatsServer({ storeDir });
    const { port, url } = server;
    const hub = uniqueHubName('out');
    const workerLog = capture();
    const options = { servers: url, hub, partitions: 2, leaseMs: 1_500,
      reconnectWaitMs: RECONNECT_WAIT_MS };
    const workerBackend = await createNatsBackend({ ...options, logger: workerLog.logger });
    const clientBackend = await createNatsBackend(options);
    backends.push(workerBackend, clientBackend);

    const worker = new TaskHubWorker({ backend: workerBackend, logger: workerLog.logger });
    worker.addOrchestration('Gate', function* (ctx, n: number) {
      const gate: string = yield ctx.waitForExternalEvent('open');
      return yield ctx.callActivity('Stamp', `${gate}:${n}`);
    });
    worker.addActivity('Stamp', (_ctx, text: string) => `stamped ${text}`);
    await worker.start();
    const client = new TaskHubClient({ backend: clientBackend });

    const before = await client.createOrchestrationInstance('Gate', { input: 1 });
    await until('the first instance to run', async () =>
      (await client.getOrchestrationState(before.instanceId))?.orchestrationStatus === 'Running');
    assert.equal(worker.connectionState, 'connected');

    await server.stop();
    await until('the worker to see the outage', () => worker.connectionState === 'reconnecting');
    // Calls meanwhile fail with BACKEND_ERROR (the transport error as its cause).
    const transport = (e: unknown): boolean => isDurableTaskError(e, 'BACKEND_ERROR');
    await Promise.all([
      new Promise((r) => setTimeout(r, OUTAGE_MS)),
      assert.rejects(client.getOrchestrationState(before.instanceId), (e: unknown) =>
        transport(e) && (e as Error).message.includes(`for instance "${before.instanceId}"`)),
      assert.rejects(client.createOrchestrationInstance('Gate', { input: 0 }), transport),
      assert.rejects(client.raiseEvent(before.instanceId, 'open', 'early'), transport),
      assert.rejects(client.queryInstances(), transport),
    ]);
    assert.equal(worker.connectionState, 'reconnecting', 'still trying after the old limit');

    server = await startNatsServer({ storeDir, port });
    await until('the worker to reconnect', () => worker.connectionState === 'connected');

    await retrying('raise on the first instance', () =>
      client.raiseEvent(before.instanceId, 'open', 'old'));
    const later = await retrying('create after the outage', () =>
      client.createOrchestrationInstance('Gate', { input: 2 }));
    await retrying('raise on the second instance', () =>
      client.raiseEvent(later.instanceId, 'open', 'new'));

    const first = await client.waitForOrchestration(before.instanceId, { timeoutMs: SAFETY_MS });
    const second = await client.waitForOrchestration(later.instanceId, { timeoutMs: SAFETY_MS });
    assert.equal(first?.orchestrationStatus, 'Completed');
    assert.equal(first?.output, JSON.stringify('stamped old:1'));
    assert.equal(second?.orchestrationStatus, 'Completed');
    assert.equal(second?.output, JSON.stringify('stamped new:2'));

    const events = workerLog.lines.map((l) => l['event']);
    for (const e of ['nats.connection.disconnected', 'nats.connection.reconnected',
      'runtime.worker_disconnected', 'runtime.worker_reconnected']) {
      assert.ok(events.includes(e), `log event ${e}`);
    }

    await worker.stop();
    await workerBackend.close();
    assert.equal(workerBackend.service.connection?.state, 'closed');
  });

  it('should close the backend when a connection it was given closes for good',
    { timeout: SAFETY_MS }, async () => {
    server ??= await startNatsServer({ storeDir });
    const nc = await connect({ servers: server.url });
    const backend = await createNatsBackend({ connection: nc, hub: uniqueHubName('own'),
      partitions: 2, leaseMs: 1_500 });
    backends.push(backend);
    const worker = new TaskHubWorker({ backend });
    worker.addOrchestration('Noop', function* () {
      return 1;
    });
    await worker.start();
    const client = new TaskHubClient({ backend });
    await client.createOrchestrationInstance('Noop', { instanceId: 'n' });
    await nc.close();
    await until('the worker to see the connection closed', () =>
      worker.connectionState === 'closed');
    await assert.rejects(client.getOrchestrationState('n'),
      (e) => isDurableTaskError(e, 'INVALID_STATE') && /is closed/.test(e.message));
    await worker.stop();
    assert.equal(worker.state, 'stopped');
  });
});
