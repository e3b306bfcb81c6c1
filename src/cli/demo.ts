import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import { startNatsServer, type EmbeddedNatsServer } from '../embedded/nats-server.ts';
import { createNatsBackend } from '../nats/index.ts';
import { TaskHubClient, TaskHubWorker } from '../runtime/index.ts';
import { registerExamples } from '../../examples/index.ts';
import { listFiles, measureFiles, type FileStats } from '../../examples/directory-stats.ts';
import type { Order } from '../../examples/orders.ts';

export interface DemoOptions {
  /** Directory whose files the fan-out example measures. */
  readonly directory: string;
  /** Use this NATS server instead of starting the embedded one. */
  readonly natsUrl?: string;
  readonly logger: Logger;
  readonly out?: (line: string) => void;
}

interface Expectation {
  readonly label: string;
  readonly instanceId: string;
  readonly check: (state: OrchestrationState) => string | null;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * The main job: an embedded nats-server (unless a URL is given), a task hub, a
 * worker hosting the examples, and real orchestrations on real input. Returns
 * the process exit code: 0 only when every instance ended as expected.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const directory = resolve(options.directory);
  let server: EmbeddedNatsServer | undefined;
  let url = options.natsUrl;
  if (!url) {
    server = await startNatsServer({ storeDir: resolve(REPO_ROOT, '.data', 'demo') });
    url = server.url;
    out(`embedded nats-server ${url} (pid ${server.pid}, store ${server.storeDir})`);
  } else {
    out(`using NATS at ${url}`);
  }

  const backend = await createNatsBackend({ servers: url, hub: 'demo', logger: options.logger });
  const worker = new TaskHubWorker({ backend, logger: options.logger });
  registerExamples(worker);
  const client = new TaskHubClient({ backend, logger: options.logger });
  try {
    await worker.start();
    out('worker started on task hub "demo"');
    const expected = await startInstances(client, directory, out);
    const results = await Promise.all(expected.map((e) => awaitInstance(client, e, out)));
    const failed = results.filter((ok) => !ok).length;
    out('');
    out(
      failed === 0
        ? `all ${results.length} instances completed as expected`
        : `${failed} of ${results.length} instances did not end as expected`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await worker.stop();
    await backend.close();
    if (server) await server.stop();
  }
}

async function startInstances(
  client: TaskHubClient,
  directory: string,
  out: (line: string) => void,
): Promise<Expectation[]> {
  const run = Date.now().toString(36);
  const started: Expectation[] = [];
  const start = async (
    label: string,
    name: string,
    input: unknown,
    check: Expectation['check'],
  ): Promise<string> => {
    const { instanceId } = await client.createOrchestrationInstance(name, {
      input,
      instanceId: `${label}-${run}`,
    });
    out(`started  ${instanceId.padEnd(28)} ${name}`);
    started.push({ label, instanceId, check });
    return instanceId;
  };

  // The fan-out's expected result is measured here directly, without the hub.
  const reference = await measureDirectly(directory);
  await start('directory-stats', 'DirectoryStats', directory, (s) => {
    const got = parseOutput<FileStats>(s);
    return got &&
      got.files === reference.files &&
      got.lines === reference.lines &&
      got.bytes === reference.bytes
      ? null
      : `expected ${reference.files} files, ${reference.lines} lines, ${reference.bytes} bytes`;
  });
  await start('hello-cities', 'HelloCities', undefined, (s) =>
    expectOutput(s, 'Hello Tokyo! Hello Seattle! Hello London!'),
  );
  const approved = await start(
    'approval-granted',
    'Approval',
    { requestId: 'PO-1001', timeoutMs: 30_000 },
    (s) => expectOutput(s, 'Approved'),
  );
  await start('approval-expired', 'Approval', { requestId: 'PO-1002', timeoutMs: 2_000 }, (s) =>
    expectOutput(s, 'Expired'),
  );
  const orders: Order[] = [
    { orderId: 'A-1', lines: [{ sku: 'nut', quantity: 10, unitPriceCents: 5 }] },
    {
      orderId: 'A-2',
      lines: [
        { sku: 'bolt', quantity: 4, unitPriceCents: 25 },
        { sku: 'washer', quantity: 8, unitPriceCents: 2 },
      ],
    },
    { orderId: 'A-3', lines: [{ sku: 'gear', quantity: 1, unitPriceCents: 1250 }] },
  ];
  await start('order-batch', 'ProcessOrderBatch', orders, (s) => {
    const got = parseOutput<{ orders: number; totalCents: number }>(s);
    return got?.orders === 3 && got.totalCents === 1416 ? null : 'expected 3 orders, 1416 cents';
  });

  // A person approves the first request a moment later.
  setTimeout(() => {
    client
      .raiseEvent(approved, 'Approval', true)
      .then(() => out(`raised   ${approved.padEnd(28)} Approval = true`))
      .catch((err: unknown) => out(`could not raise the approval event: ${String(err)}`));
  }, 500);
  return started;
}

async function awaitInstance(
  client: TaskHubClient,
  e: Expectation,
  out: (line: string) => void,
): Promise<boolean> {
  const began = Date.now();
  const state = await client.waitForOrchestration(e.instanceId, { timeoutMs: 120_000 });
  const ms = Date.now() - began;
  if (!state) {
    out(`TIMEOUT  ${e.instanceId.padEnd(28)} still not finished after ${ms} ms`);
    return false;
  }
  const problem =
    state.orchestrationStatus === 'Completed'
      ? e.check(state)
      : `status ${state.orchestrationStatus}`;
  const mark = problem ? 'FAILED  ' : 'done    ';
  out(
    `${mark} ${e.instanceId.padEnd(28)} ${state.orchestrationStatus} in ${ms} ms: ` +
      `${state.output ?? ''}${problem ? `  (${problem})` : ''}`,
  );
  return problem === null;
}

function parseOutput<T>(state: OrchestrationState): T | null {
  try {
    return state.output === undefined ? null : (JSON.parse(state.output) as T);
  } catch {
    return null;
  }
}

function expectOutput(state: OrchestrationState, value: string): string | null {
  return parseOutput<string>(state) === value ? null : `expected output ${JSON.stringify(value)}`;
}

async function measureDirectly(root: string): Promise<FileStats> {
  const ctx = { log: { info: () => undefined } } as never;
  const files = await listFiles(ctx, root);
  return measureFiles(ctx, { root, files });
}
