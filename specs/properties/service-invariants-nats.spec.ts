import { after, before, describe, it } from 'node:test';
import { checkOrchestrationServiceInvariants } from '../../src/testing/conformance-kit.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { budget, budgetLevel, INVARIANT_TITLES } from './support/fc-budget.ts';
import { natsTarget } from './support/targets.ts';

// The same model-based properties on JetStream, on real time with 1.5 s leases: few runs
// of short command sequences in CI, a fresh hub per run, one nats-server for the file.

const RUNS = { ci: 2, long: 40 };
// TODO: the NATS activity abandon never refuses: a stale holder's abandon NAKs the message
// and hands the activity out again while its new holder's lease runs (see the todo below).
// Until that is fixed, generated activity abandons come from holders whose lease surely runs.
const FEATURES = { staleActivityAbandons: false };
// A safety net only: the CI budget takes seconds per property, the long one minutes.
const TIMEOUT_MS = (budgetLevel() === 'long' ? 90 : 10) * 60_000;

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
        features: FEATURES,
      });
    });
  }

  it(MIXED, { timeout: TIMEOUT_MS }, async (t) => {
    await checkOrchestrationServiceInvariants({
      ...natsTarget(url),
      ...budget(t, { ci: 3, long: 60 }),
      focus: 'all',
      maxCommands: 24,
      features: FEATURES,
    });
  });

  it.todo(
    'INV-7 nats: abandonActivityWorkItem never fails. After completion it is a silent no-op ' +
      '(the work-item machine refuses, the refusal is dropped); after the lease lapsed and the ' +
      "activity went to a second holder, the first holder's abandon NAKs it and a third lock " +
      'hands it out while the second lease still runs. Kit counterexample (seed 2121651975, ' +
      'focus INV-1): [episode(w2, complete 2act ...), ..., activityEpisode(w4, ok), ' +
      'abandonActivity(a5)] -> the abandon of the completed holder succeeded',
  );
});
