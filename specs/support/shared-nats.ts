import { probeExport } from './module-probe.ts';

/** What the spec launcher hands back; only the fields the fixtures use. */
interface RunningServer {
  readonly url: string;
  readonly pid?: number;
  stop(): Promise<void>;
}

type Launcher = (options?: Record<string, unknown>) => Promise<RunningServer>;

const LAUNCHER_CANDIDATES = ['./nats-server.ts'];
const LAUNCHER_EXPORTS = ['startTestNatsServer', 'startNatsServer'];

let launcher: Promise<Launcher | string> | undefined;
let running: Promise<RunningServer> | undefined;

async function findLauncher(): Promise<Launcher | string> {
  for (const name of LAUNCHER_EXPORTS) {
    const found = await probeExport<Launcher>(LAUNCHER_CANDIDATES, name);
    if ('value' in found) return found.value;
  }
  return `nats-server launcher not built yet: specs/support/nats-server.ts ` +
    `(${LAUNCHER_EXPORTS.join(' | ')})`;
}

/** Why the shared server cannot be started, or undefined when it can. */
export async function natsLauncherMissing(): Promise<string | undefined> {
  const l = await (launcher ??= findLauncher());
  return typeof l === 'string' ? l : undefined;
}

/**
 * URL of the nats-server shared by every NATS test of this spec file (one
 * process per file under node --test). Started on first use, on 127.0.0.1.
 */
export async function sharedNatsUrl(): Promise<string> {
  running ??= (async () => {
    const l = await (launcher ??= findLauncher());
    if (typeof l === 'string') throw new Error(l);
    return l();
  })();
  return (await running).url;
}

/** Stops the shared server if this file started one. Safe to call more than once. */
export async function stopSharedNatsServer(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  const server = await r.catch(() => undefined);
  await server?.stop();
}
