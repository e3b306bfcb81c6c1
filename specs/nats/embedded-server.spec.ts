import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { DEFAULT_CONFIG_FILE, startNatsServer } from '../../src/embedded/nats-server.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';

describe('embedded nats-server', () => {
  let server: TestNatsServer;

  before(async () => {
    server = await startTestNatsServer();
  });

  after(async () => {
    await server.stop();
  });

  it("should find the package's nats.conf from the sources and from the build", async (t) => {
    const root = resolve(import.meta.dirname, '..', '..');
    assert.equal(DEFAULT_CONFIG_FILE, join(root, 'nats.conf'));
    const built = join(root, 'dist', 'src', 'embedded', 'nats-server.js');
    // CI builds before it tests; a bare checkout has no build to check.
    if (!existsSync(built)) return void t.skip('no build (npm run build)');
    const mod = (await import(pathToFileURL(built).href)) as { DEFAULT_CONFIG_FILE: string };
    assert.equal(mod.DEFAULT_CONFIG_FILE, join(root, 'nats.conf'));
  });

  it('should listen on 127.0.0.1 with JetStream and the given store', async () => {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      assert.equal(typeof info.limits, 'object');
      assert.ok(nc.info && nc.info.max_payload >= 1024 * 1024);
    } finally {
      await nc.close();
    }
  });

  it('should stop by pid and remove the temporary store', async () => {
    const other = await startTestNatsServer();
    assert.ok(other.pid > 0);
    await other.stop();
    assert.throws(() => process.kill(other.pid, 0));
    assert.equal(existsSync(other.storeDir), false);
  });

  it('should fail with SERVER_UNAVAILABLE naming the install command when the binary is missing',
    async () => {
      await assert.rejects(
        startNatsServer({ binary: '/nonexistent/nats-server',
          storeDir: join(server.storeDir, 'unused') }),
        (e) => isDurableTaskError(e, 'SERVER_UNAVAILABLE') &&
          /apt-get install -y nats-server/.test((e as Error).message));
    });
});
