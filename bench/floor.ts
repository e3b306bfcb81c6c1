/**
 * The floor under the workloads: the JetStream operations one instance costs,
 * issued by a minimal hand-written worker (no engine, no runtime, no history
 * beyond a counter), on this machine and client library. It prices operation
 * sets, not code: how fast a workload could go if the engine cost nothing
 * beyond its operations, for the set the engine uses today and for leaner ones.
 * Like the engine, one instance runs one episode at a time, and messages that
 * arrive meanwhile are taken together by its next episode (one commit).
 */
import {
  AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy,
  type JetStreamClient, type JetStreamManager, type JsMsg,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { BenchContext } from './context.ts';
import { cpuMeter } from './machine.ts';
import { openServer } from './server.ts';
import { median, quantile, round } from './stats.ts';
import { WORKLOADS, type Workload } from './workloads.ts';

/**
 * - `engine-ops`: the engine's operations today (as the benchmark counts them): record
 *   create, then start; on a new instance a history read and a record read; one CAS
 *   commit per episode; then confirmed acks, activity messages and a Running record
 *   write (final episode: execution record, then latest record); activity: result, then
 *   confirmed ack; a relay delivery and ack per commit; a client read per record update.
 * - `lean`: record create and start pipelined; plain acks; no Running writes; one record
 *   write at the end; no relay consumer; the client uses the watched value.
 * - `local`: lean, and activities run inside the worker right after the commit that
 *   scheduled them (no activity or result messages); still one commit per episode.
 */
export type FloorVariant = 'engine-ops' | 'lean' | 'local';
export const FLOOR_VARIANTS: readonly FloorVariant[] = ['engine-ops', 'lean', 'local'];

/** Shape of a workload: `steps` sequential rounds of `width` parallel activities. */
const SHAPES: Readonly<Record<Workload['name'], { steps: number; width: number }>> = {
  hello: { steps: 1, width: 1 },
  chain: { steps: 3, width: 1 },
  fanout: { steps: 1, width: 10 },
};

const enc = new TextEncoder();
const dec = new TextDecoder();
const WAIT_MS = 30_000;

interface Instance {
  step: number;
  outstanding: number;
  revision: number;
  readonly mailbox: { readonly m: JsMsg | undefined; readonly kind: 'start' | 'result' }[];
  running: boolean;
}

interface Floor {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kv: KV;
  readonly variant: FloorVariant;
  readonly shape: { steps: number; width: number };
  readonly prefix: string;
  readonly waiters: Map<string, (ok: boolean) => void>;
  readonly instances: Map<string, Instance>;
  stop(): Promise<void>;
}

async function setUp(url: string, variant: FloorVariant, w: Workload): Promise<Floor> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const P = `FLOOR_${variant.replace('-', '_')}_${w.name}`.toUpperCase();
  const s = P.toLowerCase();
  const wq = { retention: RetentionPolicy.Workqueue, duplicate_window: 120e9 };
  await jsm.streams.add({ name: `${P}_ORCH`, subjects: [`${s}.orch.>`], ...wq });
  await jsm.streams.add({ name: `${P}_ACT`, subjects: [`${s}.act.>`], ...wq });
  await jsm.streams.add({ name: `${P}_HIST`, subjects: [`${s}.hist.>`], allow_direct: true,
    duplicate_window: 120e9 });
  const durable = { ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000,
    deliver_policy: DeliverPolicy.All };
  await jsm.consumers.add(`${P}_ORCH`, { ...durable, durable_name: 'w' });
  await jsm.consumers.add(`${P}_ACT`, { ...durable, durable_name: 'a' });
  await jsm.consumers.add(`${P}_HIST`, { ...durable, durable_name: 'relay' });
  const kv = await new Kvm(js).create(`${P}_REC`, { history: 1 });
  const f: Floor = { nc, js, jsm, kv, variant, shape: SHAPES[w.name], prefix: s,
    waiters: new Map(), instances: new Map(),
    stop: async () => {
      await nc.drain().catch(() => nc.close());
    } };
  const watch = await kv.watch({ key: '*', include: 'updates' as never });
  void (async () => {
    for await (const e of watch) {
      const waiter = f.waiters.get(e.key);
      if (!waiter) continue;
      if (variant === 'engine-ops') {
        void kv.get(e.key).then((got) => {
          if (got && dec.decode(got.value) === 'Completed') waiter(true);
        });
      } else if (dec.decode(e.value) === 'Completed') {
        waiter(true);
      }
    }
  })();
  const consume = async (stream: string, name: string, on: (m: JsMsg) => void): Promise<void> => {
    const iter = await (await js.consumers.get(stream, name)).consume({ max_messages: 512 });
    void (async () => {
      for await (const m of iter) on(m);
    })();
  };
  await consume(`${P}_ORCH`, 'w', (m) => deliver(f, m));
  if (variant !== 'local') {
    await consume(`${P}_ACT`, 'a', (m) => void runActivity(f, m).catch(() => m.nak()));
  }
  if (variant === 'engine-ops') await consume(`${P}_HIST`, 'relay', (m) => m.ack());
  return f;
}

function idOf(f: Floor, subject: string, kind: string): string {
  return subject.slice(`${f.prefix}.${kind}.`.length);
}

function deliver(f: Floor, m: JsMsg): void {
  const id = idOf(f, m.subject, 'orch');
  const kind = dec.decode(m.data) === 'start' ? 'start' : 'result';
  enqueue(f, id, { m, kind });
}

function enqueue(f: Floor, id: string, item: Instance['mailbox'][number]): void {
  let inst = f.instances.get(id);
  if (!inst) {
    inst = { step: 0, outstanding: 0, revision: 0, mailbox: [], running: false };
    f.instances.set(id, inst);
  }
  inst.mailbox.push(item);
  if (!inst.running) void runEpisodes(f, id, inst);
}

/** One episode at a time per instance; each takes every message waiting for it. */
async function runEpisodes(f: Floor, id: string, inst: Instance): Promise<void> {
  inst.running = true;
  try {
    // Bounded: each round consumes the mailbox, which only the workload's messages refill.
    for (let round = 0; round < 1_000 && inst.mailbox.length > 0; round++) {
      const batch = inst.mailbox.splice(0);
      await episode(f, id, inst, batch);
    }
  } finally {
    inst.running = false;
  }
}

async function episode(f: Floor, id: string, inst: Instance, batch: Instance['mailbox']):
  Promise<void> {
  const hist = `${f.prefix}.hist.${id}`;
  const engine = f.variant === 'engine-ops';
  let schedule = 0;
  let completed = false;
  if (batch.some((b) => b.kind === 'start')) {
    // A new instance misses the cache: history and record are read in parallel.
    await Promise.all([
      f.jsm.direct.getMessage(`${f.prefix.toUpperCase()}_HIST`, { last_by_subj: hist }),
      f.kv.get(id),
    ]);
    schedule = f.shape.width;
  }
  const results = batch.filter((b) => b.kind === 'result').length;
  if (results > 0) {
    inst.outstanding -= results;
    if (inst.outstanding === 0) {
      inst.step++;
      if (inst.step < f.shape.steps) schedule = f.shape.width;
      else completed = true;
    }
  }
  const ack = await f.js.publish(hist, enc.encode(`commit ${inst.step} ${schedule} ${results}`),
    { expect: { lastSubjectSequence: inst.revision } });
  inst.revision = ack.seq;
  inst.outstanding += schedule;
  const after: Promise<unknown>[] = [];
  for (const b of batch) {
    if (!b.m) continue;
    if (engine) after.push(b.m.ackAck());
    else b.m.ack();
  }
  if (completed) {
    f.instances.delete(id);
    after.push(engine
      ? f.kv.create(`${id}.exec`, enc.encode('Completed')).then(() =>
        f.kv.put(id, enc.encode('Completed')))
      : f.kv.put(id, enc.encode('Completed')));
  } else if (engine) {
    after.push(f.kv.put(id, enc.encode('Running')));
  }
  if (f.variant === 'local') {
    for (let k = 0; k < schedule; k++) {
      void Promise.resolve(`Hello ${k}!`).then(() => enqueue(f, id, { m: undefined,
        kind: 'result' }));
    }
  } else {
    for (let k = 0; k < schedule; k++) {
      after.push(f.js.publish(`${f.prefix}.act.${id}`, enc.encode(`SayHello ${k}`),
        { msgID: `${id}:${inst.step}:${k}` }));
    }
  }
  await Promise.all(after);
}

async function runActivity(f: Floor, m: JsMsg): Promise<void> {
  const id = idOf(f, m.subject, 'act');
  const result = `Hello ${dec.decode(m.data).split(' ')[1] ?? ''}!`;
  await f.js.publish(`${f.prefix}.orch.${id}`, enc.encode(result),
    { msgID: `${id}:r${m.seq}` });
  if (f.variant === 'engine-ops') await m.ackAck();
  else m.ack();
}

async function one(f: Floor, id: string): Promise<number> {
  const t0 = performance.now();
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => finish(false), WAIT_MS);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      f.waiters.delete(id);
      resolve(ok);
    }
    f.waiters.set(id, finish);
  });
  const start = (): Promise<unknown> => f.js.publish(`${f.prefix}.orch.${id}`,
    enc.encode('start'), { msgID: `${id}:start` });
  if (f.variant === 'engine-ops') {
    await f.kv.create(id, enc.encode('Pending'));
    await start();
  } else {
    await Promise.all([f.kv.create(id, enc.encode('Pending')), start()]);
  }
  if (!(await done)) throw new Error(`floor instance ${id} did not complete`);
  return performance.now() - t0;
}

/** For each workload and variant: n instances 50 at a time, then instances one at a time. */
export async function floorSection(ctx: BenchContext): Promise<void> {
  const server = await openServer(ctx.args.natsUrl);
  try {
    for (const name of ctx.args.workloads) {
      for (const variant of FLOOR_VARIANTS) await floorOne(ctx, server, WORKLOADS[name], variant);
    }
  } finally {
    await server.stop();
  }
}

async function floorOne(ctx: BenchContext, server: { url: string; pid: number | undefined },
  w: Workload, variant: FloorVariant): Promise<void> {
  const f = await setUp(server.url, variant, w);
  try {
    let k = 0;
    const pool = async (n: number, c: number): Promise<{ ms: number; lat: number[] }> => {
      const lat: number[] = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: Math.min(c, n) }, async () => {
        // Bounded: each turn takes a distinct index below n.
        for (;;) {
          if (next++ >= n) return;
          lat.push(await one(f, `i${k++}`));
        }
      }));
      return { ms: performance.now() - t0, lat };
    };
    await pool(ctx.args.warmup, ctx.args.concurrency);
    const n = Math.max(...ctx.args.counts);
    const rates: number[] = [];
    const p50s: number[] = [];
    const foreign: number[] = [];
    const nodeMs: number[] = [];
    const serverMs: number[] = [];
    for (let r = 0; r < ctx.args.runs; r++) {
      const meter = cpuMeter(server.pid);
      const run = await pool(n, ctx.args.concurrency);
      const cpu = meter.stop();
      foreign.push(cpu.foreign_pct);
      nodeMs.push((cpu.node_pct / 100) * run.ms / n);
      serverMs.push((cpu.server_pct / 100) * run.ms / n);
      rates.push((n * 1000) / run.ms);
      p50s.push(quantile(run.lat, 0.5));
    }
    const serial = await pool(ctx.args.latencyN, 1);
    const ips = median(rates);
    const line = {
      test: 'floor', variant, workload: w.name, n, concurrency: ctx.args.concurrency,
      instances_per_sec: round(ips, 0), steps_per_sec: round(ips * w.activities, 0),
      p50_ms: round(median(p50s), 2),
      one_at_a_time_median_ms: round(median(serial.lat), 3),
      cpu: { node_ms_per_instance: round(median(nodeMs), 3),
        server_ms_per_instance: round(median(serverMs), 3), foreign_pct: foreign },
    };
    ctx.note(`floor ${w.name} ${variant}: ${line.instances_per_sec}/s p50 ${line.p50_ms} ms, ` +
      `one at a time ${line.one_at_a_time_median_ms} ms, cpu ms/instance node ` +
      `${line.cpu.node_ms_per_instance} server ${line.cpu.server_ms_per_instance} ` +
      `(others ${foreign.join(',')}%)`);
    ctx.emit(line);
  } finally {
    await f.stop();
  }
}
