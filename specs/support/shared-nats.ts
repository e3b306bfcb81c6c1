import { startTestNatsServer, type TestNatsServer } from './nats-server.ts';

let running: Promise<TestNatsServer> | undefined;

/**
 * URL of the nats-server shared by every NATS test of this spec file (one
 * process per file under node --test). Started on first use, on 127.0.0.1.
 */
export async function sharedNatsUrl(): Promise<string> {
  running ??= startTestNatsServer();
  return (await running).url;
}

/** Stops the shared server (by PID) if this file started one. Safe to call more than once. */
export async function stopSharedNatsServer(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  const server = await r.catch(() => undefined);
  await server?.stop();
}
