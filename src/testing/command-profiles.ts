import fc from 'fast-check';
import {
  AbandonActivity,
  ActivityEpisode,
  CompleteActivity,
  LockActivity,
  RenewActivity,
} from './commands/activity-commands.ts';
import { CreateInstance, SendEvent } from './commands/client-commands.ts';
import {
  Advance,
  ArmCheckpointFault,
  Crash,
  ExpireLocks,
  PauseWorker,
} from './commands/fault-commands.ts';
import {
  Abandon,
  Complete,
  Episode,
  LockOrchestration,
  Release,
  Renew,
} from './commands/orchestration-commands.ts';
import { StaleHolder, type StaleCall } from './commands/stale-holder.ts';
import type { KitCommand } from './commands/step.ts';
import type { ConformanceFocus, ConformanceTarget } from './conformance-target.ts';
import type { Outcome } from './episode-builder.ts';

type Kind =
  | 'create'
  | 'createDelayed'
  | 'send'
  | 'lock'
  | 'complete'
  | 'renew'
  | 'abandon'
  | 'release'
  | 'advance'
  | 'expire'
  | 'lockAct'
  | 'completeAct'
  | 'abandonAct'
  | 'renewAct'
  | 'crash'
  | 'fault'
  | 'pause'
  | 'episode'
  | 'actEpisode'
  | 'stale';

type Weights = Record<Kind, number>;

const BASE: Weights = {
  create: 2,
  createDelayed: 1,
  send: 4,
  lock: 7,
  complete: 6,
  renew: 2,
  abandon: 2,
  release: 3,
  advance: 2,
  expire: 1,
  lockAct: 2,
  completeAct: 2,
  abandonAct: 1,
  renewAct: 1,
  crash: 1,
  fault: 1,
  pause: 1,
  episode: 4,
  actEpisode: 2,
  stale: 1,
};

/** Command mixes that aim at one invariant each (every invariant is checked in all of them). */
const FOCUS: Record<ConformanceFocus, Partial<Weights>> = {
  all: {},
  'INV-1': { lock: 8, expire: 2, advance: 3, renew: 3, complete: 3, send: 3, pause: 2, stale: 3 },
  'INV-2': {
    complete: 7,
    expire: 2,
    renew: 3,
    abandon: 3,
    release: 2,
    advance: 2,
    pause: 2,
    stale: 5,
  },
  'INV-3': { send: 7, lock: 6, complete: 6, release: 3, lockAct: 1, completeAct: 1, episode: 5 },
  'INV-4': { abandon: 5, release: 4, expire: 2, lock: 6, send: 5, complete: 3, crash: 2 },
  'INV-5': { renew: 7, advance: 5, lock: 4, complete: 3, renewAct: 3, lockAct: 3 },
  'INV-6': { complete: 8, fault: 2, lock: 6, lockAct: 2, completeAct: 2, create: 2, episode: 6 },
  'INV-7': {
    lockAct: 7,
    completeAct: 5,
    abandonAct: 3,
    renewAct: 3,
    expire: 2,
    complete: 4,
    send: 2,
    episode: 5,
    actEpisode: 3,
  },
  'INV-8': { send: 8, lock: 5, abandon: 3, release: 3, complete: 4, expire: 1 },
  'INV-9': { createDelayed: 5, complete: 5, advance: 6, lock: 6, send: 2, episode: 5 },
  'EXACTLY-ONCE': {},
  'NO-STUCK': {},
  CONTRACT: {},
};

function outcome(focus: ConformanceFocus): fc.Arbitrary<Outcome> {
  const moreActivities = focus === 'INV-7';
  const moreTimers = focus === 'INV-9';
  return fc.record({
    activities: moreActivities ? fc.integer({ min: 1, max: 2 }) : fc.nat({ max: 2 }),
    timers: fc.array(
      fc.integer({ min: 5, max: 150 }).map((n) => n / 100),
      { maxLength: moreTimers ? 3 : 1 },
    ),
    sends: fc.array(fc.nat({ max: 7 }), { maxLength: 2 }),
    child: fc.nat({ max: 4 }).map((n) => n === 4),
    duplicateStart: fc.option(fc.nat({ max: 7 }), { freq: 6, nil: undefined }),
    end: fc.constantFrom<Outcome['end']>(
      'none',
      'none',
      'none',
      'none',
      'complete',
      'fail',
      'continueAsNew',
      'continueAsNew',
    ),
  });
}

/** The weighted command arbitrary for a target and focus. */
export function commandArbitrary(
  target: ConformanceTarget,
  focus: ConformanceFocus,
): fc.Arbitrary<KitCommand> {
  const w: Weights = { ...BASE, ...FOCUS[focus] };
  if (!target.createPeer) w.crash = 0;
  if (!target.failNextCheckpoint) w.fault = 0;
  if (!target.pause) w.pause = 0;
  const n = fc.nat({ max: 7 });
  const fraction = fc.integer({ min: 1, max: 100 }).map((x) => x / 100);
  const all: [Kind, fc.Arbitrary<KitCommand>][] = [
    ['create', fc.constant(null).map(() => new CreateInstance(undefined))],
    ['createDelayed', fraction.map((f) => new CreateInstance(f * 2))],
    ['send', n.map((t) => new SendEvent(t))],
    ['lock', n.map((x) => new LockOrchestration(x))],
    ['complete', fc.tuple(n, outcome(focus)).map(([h, o]) => new Complete(h, o))],
    ['renew', n.map((h) => new Renew(h))],
    ['abandon', n.map((h) => new Abandon(h))],
    ['release', n.map((h) => new Release(h))],
    ['advance', fraction.map((f) => new Advance(f))],
    ['expire', fc.constant(null).map(() => new ExpireLocks())],
    ['lockAct', n.map((x) => new LockActivity(x))],
    ['completeAct', fc.tuple(n, fc.boolean()).map(([h, ok]) => new CompleteActivity(h, ok))],
    ['abandonAct', n.map((h) => new AbandonActivity(h))],
    ['renewAct', n.map((h) => new RenewActivity(h))],
    ['crash', n.map((x) => new Crash(x))],
    ['fault', fc.constant(null).map(() => new ArmCheckpointFault())],
    ['pause', n.map((x) => new PauseWorker(x))],
    ['episode', fc.tuple(n, outcome(focus)).map(([x, o]) => new Episode(x, o))],
    ['actEpisode', fc.tuple(n, fc.boolean()).map(([x, ok]) => new ActivityEpisode(x, ok))],
    [
      'stale',
      fc
        .tuple(
          n,
          fc.constantFrom<StaleCall>('complete', 'renew', 'abandon'),
          fc.boolean(),
          outcome(focus),
        )
        .map(([x, call, p, o]) => new StaleHolder(x, call, p, o)),
    ],
  ];
  const weighted = all
    .filter(([k]) => w[k] > 0)
    .map(([k, arbitrary]) => ({ weight: w[k], arbitrary }));
  return fc.oneof(...weighted);
}
