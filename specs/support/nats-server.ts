import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type EmbeddedServer } from '../../src/embedded/nats-server.ts';

/** A nats-server for one spec file, with its own temporary store directory. */
export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string;
  /** Stops the server (by PID) and removes its store directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded server (repository `nats.conf`) on 127.0.0.1 with a free
 * port and a fresh temp store. Call `stop()` in an `after` hook.
 */
export async function startTestNatsServer(): Promise<TestNatsServer> {
  const storeDir = mkdtempSync(join(tmpdir(), 'dt-nats-spec-'));
  let server: EmbeddedServer;
  try {
    server = await startNatsServer({ storeDir });
  } catch (err) {
    rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    pid: server.pid,
    storeDir,
    stop: () => (stopped ??= server.stop().finally(() => {
      rmSync(storeDir, { recursive: true, force: true });
    })),
  };
}

let hubCounter = 0;

/** A task hub name unique to this process and run: letters, digits and `_`. */
export function uniqueHubName(prefix = 't'): string {
  hubCounter++;
  const rand = Math.floor(Math.random() * 36 ** 4).toString(36);
  return `${prefix}${process.pid.toString(36)}${rand}${hubCounter}`.slice(0, 32);
}
