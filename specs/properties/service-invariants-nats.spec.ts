import { after, before, describe, it } from 'node:test';
import { checkOrchestrationServiceInvariants } from '../../src/testing/conformance-kit.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { budget, INVARIANT_TITLES } from './support/fc-budget.ts';
import { natsTarget } from './support/targets.ts';

// The same model-based properties on JetStream, on real time with 1.5 s leases: few runs
// of short command sequences in CI, a fresh hub per run, one nats-server for the file.

const RUNS = { ci: 2, long: 40 };
const TIMEOUT_MS = 10 * 60_000;

const MIXED = 'model-based: random commands keep INV-1..INV-9, every message consumed once';

describe('orchestration service invariants: nats backend', () => {
  let server: TestNatsServer | undefined;
  const url = (): string => {
    if (!server) throw new Error('nats-server not started');
    return server.url;
  };

  before(async () => {
    server = await startTestNatsServer();
  });
  after(() => server?.stop());

  for (const [id, title] of INVARIANT_TITLES) {
    it(`${id} ${title}`, { timeout: TIMEOUT_MS }, async (t) => {
      await checkOrchestrationServiceInvariants({
        ...natsTarget(url),
        ...budget(t, RUNS),
        focus: id,
      });
    });
  }

  it(MIXED, { timeout: TIMEOUT_MS }, async (t) => {
    await checkOrchestrationServiceInvariants({
      ...natsTarget(url),
      ...budget(t, { ci: 3, long: 60 }),
      focus: 'all',
      maxCommands: 24,
    });
  });
});
