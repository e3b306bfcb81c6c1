import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync,
} from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';

/** Options of `startNatsServer`. */
export interface EmbeddedServerOptions {
  /** JetStream store directory. @default `.data/nats` under the current directory */
  readonly storeDir?: string;
  /** Client port on 127.0.0.1. @default a free port chosen at start */
  readonly port?: number;
  /** Server config file. @default the package's `nats.conf` */
  readonly configFile?: string;
  /** How long to wait for the server to accept clients. @default 15000 */
  readonly readyTimeoutMs?: number;
  /** Path of the binary. @default `$NATS_SERVER_BIN`, else `nats-server` on the PATH */
  readonly binary?: string;
}

/** A running embedded server. `stop()` ends it by PID (SIGTERM, then SIGKILL). */
export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Alias of `EmbeddedServer`. */
export type EmbeddedNatsServer = EmbeddedServer;

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 3_000;
const LOG_TAIL_LINES = 40;
const INSTALL_HINT = 'Install it with `apt-get install -y nats-server` (Debian/Ubuntu), ' +
  'or set NATS_SERVER_BIN to its path.';

/**
 * The package's root: the nearest folder above this module that holds
 * `nats.conf` and `package.json` (`src/embedded/` in the repository,
 * `dist/src/embedded/` in the built package).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'nats.conf')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** The package's `nats.conf`. */
export const DEFAULT_CONFIG_FILE = join(packageRoot(), 'nats.conf');
/** Where the embedded server keeps its data when no store directory is given: `./.data/nats`. */
export const DEFAULT_STORE_DIR = resolve('.data', 'nats');

/**
 * Starts `nats-server -c <config>` on 127.0.0.1 with a free port (command-line
 * flags override the file's address and port; the store directory replaces the
 * file's `store_dir` in a derived copy), waits until it accepts
 * clients, and returns a handle that stops it by PID. Used by the command line,
 * the demo, the benchmarks and the specs; the library never starts a server.
 */
export async function startNatsServer(
  options: EmbeddedServerOptions = {},
): Promise<EmbeddedServer> {
  const binary = options.binary ?? findServerBinary();
  if (!isExecutable(binary)) {
    throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
      `'${binary}' is not an executable nats-server binary. ${INSTALL_HINT}`);
  }
  const configFile = resolve(options.configFile ?? DEFAULT_CONFIG_FILE);
  assertReadable(configFile);
  const storeDir = resolve(options.storeDir ?? DEFAULT_STORE_DIR);
  mkdirSync(storeDir, { recursive: true });
  const port = options.port ?? (await findFreePort());

  const args = [...configArgs(configFile, storeDir), '-a', HOST, '-p', String(port), '-js'];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = collectLog(child);
  const spawned = await waitForSpawn(child, binary);
  if (!spawned) {
    throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
      `Could not run nats-server at '${binary}'. ${INSTALL_HINT}`);
  }
  const pid = child.pid as number;

  try {
    await waitUntilReady(child, port, options.readyTimeoutMs ?? 15_000, log);
  } catch (err) {
    await stopChild(child);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `nats://${HOST}:${port}`,
    port,
    storeDir,
    pid,
    stop: () => (stopping ??= stopChild(child)),
  };
}

const STORE_DIR_LINE = /^(\s*)store_dir\s*[:=]?\s*.*$/m;

/**
 * nats-server 2.9 refuses `-sd` when the file sets `store_dir` ("Duplicate
 * 'store_dir' configuration"), so the store directory override is applied to a
 * copy of the config written into the store directory.
 */
function configArgs(configFile: string, storeDir: string): string[] {
  const text = readFileSync(configFile, 'utf8');
  if (!STORE_DIR_LINE.test(text)) return ['-c', configFile, '-sd', storeDir];
  const line = `store_dir: ${JSON.stringify(storeDir)}`;
  const derived = text.replace(STORE_DIR_LINE, (_m, indent: string) => `${indent}${line}`);
  const path = join(storeDir, 'embedded-nats.conf');
  writeFileSync(path, derived);
  return ['-c', path];
}

/** Finds the nats-server binary, or throws SERVER_UNAVAILABLE naming the install command. */
export function findServerBinary(): string {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
      `NATS_SERVER_BIN points to '${fromEnv}', which is not an executable file. ${INSTALL_HINT}`);
  }
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d.length > 0);
  for (const dir of [...dirs, '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
    `The nats-server binary was not found on the PATH. ${INSTALL_HINT}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function assertReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
      `The nats-server config file '${path}' cannot be read.`, { cause: err });
  }
}

/** Asks the OS for a free loopback port. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

interface LogTail {
  lines: string[];
  ready: boolean;
}

function collectLog(child: ChildProcess): LogTail {
  const tail: LogTail = { lines: [], ready: false };
  const onData = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.length === 0) continue;
      if (line.includes('Server is ready')) tail.ready = true;
      tail.lines.push(line);
      if (tail.lines.length > LOG_TAIL_LINES) tail.lines.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return tail;
}

function waitForSpawn(child: ChildProcess, binary: string): Promise<boolean> {
  return new Promise((resolveSpawn) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      resolveSpawn(true);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn);
      if (err.code !== 'ENOENT' && err.code !== 'EACCES') {
        process.emitWarning(`nats-server at '${binary}' failed to start: ${err.message}`);
      }
      resolveSpawn(false);
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

async function waitUntilReady(
  child: ChildProcess,
  port: number,
  timeoutMs: number,
  log: LogTail,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Bounded poll: the log line says JetStream is up, the TCP probe that the port accepts.
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
        `nats-server exited during start-up (code ${child.exitCode}, signal ` +
        `${child.signalCode}) on port ${port}:\n${log.lines.join('\n')}`);
    }
    if (log.ready && (await canConnect(port))) return;
    await new Promise((r) => setTimeout(r, Math.min(25 * (attempt + 1), 200)));
  }
  throw new DurableTaskError(ErrorCode.SERVER_UNAVAILABLE,
    `nats-server did not become ready on ${HOST}:${port} within ${timeoutMs} ms:\n` +
    log.lines.join('\n'));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolveConnect(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, HOST, () => done(true));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolveExit(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolveExit(true);
    };
    child.once('exit', onExit);
  });
}

/** Stops the child by its PID: SIGTERM, then SIGKILL after a bounded wait. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, KILL_WAIT_MS);
}
