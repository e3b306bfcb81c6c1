import {
  DeliverPolicy, type JetStreamClient, type JetStreamManager, type PubAck,
} from '@nats-io/jetstream';
import { encodeInstanceId, HubNames } from '../src/nats/names.ts';
import { relayMarkKey } from '../src/nats/outbox-relay.ts';

/** Publishes at most this many messages before awaiting their acks. */
const WINDOW = 1024;

export interface Template {
  /** Hub the template was read from (renamed to the target hub when cloning). */
  readonly hub: string;
  /** The commits of one finished instance, oldest first (raw JSON text). */
  readonly commits: readonly string[];
  /** Its latest-execution record and per-execution record (raw JSON text). */
  readonly latest: string;
  /** Absent when the engine keeps no per-execution record for a latest execution. */
  readonly execution: string | undefined;
  readonly executionId: string;
  readonly instanceId: string;
  readonly token: string;
}

/**
 * Reads what the engine left behind for one finished instance: its commits on
 * the commit log and its two instance records.
 */
export async function readTemplate(jsm: JetStreamManager, names: HubNames,
  instanceId: string): Promise<Template> {
  const token = encodeInstanceId(instanceId);
  const subject = names.histSubject(names.partitionOf(instanceId), token);
  const commits: string[] = [];
  let seq = 1;
  // Bounded: a finished hello instance has a handful of commits.
  for (let i = 0; i < 100; i++) {
    const sm = await jsm.direct.getMessage(names.histStream, { seq, next_by_subj: subject });
    if (!sm) break;
    commits.push(sm.string());
    seq = sm.seq + 1;
  }
  const bucket = `$KV.${names.instancesBucket}`;
  const latestMsg = await jsm.direct.getMessage(`KV_${names.instancesBucket}`,
    { last_by_subj: `${bucket}.${token}` });
  if (!latestMsg || commits.length === 0) {
    throw new Error(`Instance '${instanceId}' has no commits or no record to clone.`);
  }
  const latest = latestMsg.string();
  const executionId = (JSON.parse(latest) as { orchestrationInstance: { executionId: string } })
    .orchestrationInstance.executionId;
  const execMsg = await jsm.direct.getMessage(`KV_${names.instancesBucket}`,
    { last_by_subj: `${bucket}.${names.executionKey(token, executionId)}` });
  return { hub: names.hub, commits, latest, execution: execMsg?.string(), executionId,
    instanceId, token };
}

/** Replaces the template's hub, id and token with the target hub's and a new instance's. */
function rename(text: string, t: Template, hub: string, id: string, token: string): string {
  return text.split(`dt.${t.hub}.`).join(`dt.${hub}.`).split(t.instanceId).join(id)
    .split(t.token).join(token);
}

/**
 * Writes `count` finished instances into the hub's stores the way the engine
 * leaves them (commits on the commit log, with each commit's `execStart`
 * pointing at the new first commit, the latest record, and the per-execution
 * record when the engine wrote one),
 * cloned from a template instance under new ids `<prefix>-<i>`. Publishes
 * carry no message ids: this is the hub as it looks once the duplicate window
 * has passed. Run it before the hub's worker starts, then `ackRelayBacklog`.
 * Returns the elapsed milliseconds.
 */
export async function fillFinished(js: JetStreamClient, names: HubNames, t: Template,
  count: number, prefix: string, onProgress: (done: number) => void): Promise<number> {
  const t0 = performance.now();
  const enc = new TextEncoder();
  const bucket = `$KV.${names.instancesBucket}`;
  for (let start = 0; start < count; start += WINDOW) {
    const end = Math.min(count, start + WINDOW);
    const ids: { id: string; token: string; partition: number }[] = [];
    for (let i = start; i < end; i++) {
      const id = `${prefix}-${i}`;
      ids.push({ id, token: encodeInstanceId(id), partition: names.partitionOf(id) });
    }
    // Commit by commit, so each later commit can name the first one's sequence.
    const firstSeqs: number[] = new Array(ids.length).fill(0);
    const lastSeqs: number[] = new Array(ids.length).fill(0);
    for (let c = 0; c < t.commits.length; c++) {
      const acks: Promise<PubAck>[] = ids.map((x, k) => {
        let body = rename(t.commits[c] as string, t, names.hub, x.id, x.token);
        if (c > 0) {
          const parsed = JSON.parse(body) as Record<string, unknown>;
          if (parsed['execStart'] !== undefined) parsed['execStart'] = firstSeqs[k];
          body = JSON.stringify(parsed);
        }
        return js.publish(names.histSubject(x.partition, x.token), enc.encode(body));
      });
      const done = await Promise.all(acks);
      done.forEach((a, k) => {
        if (c === 0) firstSeqs[k] = a.seq;
        lastSeqs[k] = a.seq;
      });
    }
    const writes: Promise<PubAck>[] = [];
    ids.forEach((x, k) => {
      const commitSeq = lastSeqs[k] as number;
      type Rec = Record<string, unknown>;
      const latest = JSON.parse(rename(t.latest, t, names.hub, x.id, x.token)) as Rec;
      latest['commitSeq'] = commitSeq;
      writes.push(js.publish(`${bucket}.${x.token}`, enc.encode(JSON.stringify(latest))));
      if (t.execution !== undefined) {
        const exec = JSON.parse(rename(t.execution, t, names.hub, x.id, x.token)) as Rec;
        exec['commitSeq'] = commitSeq;
        writes.push(js.publish(`${bucket}.${names.executionKey(x.token, t.executionId)}`,
          enc.encode(JSON.stringify(exec))));
      }
    });
    await Promise.all(writes);
    onProgress(end);
  }
  return performance.now() - t0;
}

/**
 * Moves the hub's relay consumers past the cloned commits, which is where the
 * engine leaves them once it has sent a commit's outbox and acked the relay's
 * copy: the clones' outboxes must not be sent again. Acking them one by one is
 * slow here (server 2.9 over-counts `num_pending` of wildcard-filtered
 * consumers, so batch fetches wait out their expiry), so each relay consumer
 * is recreated with its own configuration, starting after the last commit.
 * Returns the number of commits skipped.
 */
export async function skipRelayBacklog(jsm: JetStreamManager, names: HubNames): Promise<number> {
  const stream = await jsm.streams.info(names.histStream);
  const next = stream.state.last_seq + 1;
  let skipped = 0;
  for (let p = 0; p < names.partitions; p++) {
    const name = names.relayConsumer(p);
    let info;
    try {
      info = await jsm.consumers.info(names.histStream, name);
    } catch {
      continue; // No relay consumer for this partition: nothing to move.
    }
    skipped += info.num_pending;
    await jsm.consumers.delete(names.histStream, name);
    await jsm.consumers.add(names.histStream, {
      ...info.config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next,
    });
  }
  // Engines with a relay mark (outbox-relay.ts) resend from the mark instead: set it past the
  // clones, where an owner leaves it once their outboxes are sent.
  const js = jsm.jetstream();
  const enc = new TextEncoder();
  for (let p = 0; p < names.partitions; p++) {
    await js.publish(`$KV.${names.instancesBucket}.${relayMarkKey(p)}`, enc.encode(JSON.stringify(
      { sentUpTo: next - 1, worker: 'bench-fill', at: Date.now() })));
  }
  return skipped || stream.state.messages;
}
