/**
 * The relay of one owned partition: who sends a commit's outbox.
 *
 * Rule (replaces the relay consumer of design 9.11, approved by the lead):
 * - The live owner sends each commit's outbox (and writes its records) itself,
 *   right after the commit. Nothing consumes the commit log while it lives.
 * - It keeps a per-partition mark, "outboxes sent up to commit sequence S":
 *   every commit of the partition with a sequence <= S has had its outbox
 *   stored. S never passes a commit whose send is pending or failed, nor a
 *   commit still being published (its sequence is unknown, but above every
 *   sequence known when its publish began).
 * - The mark lives in the instance bucket under `=relay.<p>` ('=' is not in
 *   an instance token, so scans of records never see it). The owner writes it
 *   about once a second while it changes, after the takeover scan, and when it
 *   hands the partition back; only while its lease is usable.
 * - A new owner, at takeover (after the takeover wait), reads the partition's
 *   commits from S+1 to the end of the log and resends their outboxes and
 *   records. The outbox message ids are deterministic, so the stream drops a
 *   resend within its duplicate window; receivers ignore the rest (applied
 *   lists, known task ids).
 * - A send that fails on the live owner is retried by it a few times; until
 *   it succeeds the mark stays below that commit, so the next owner resends it.
 * - A commit publish that got no reply holds the mark until the owner finds
 *   out from the log whether it landed (then it sends that outbox itself).
 * - A hub without a mark starts from the ack floor of its old relay consumer
 *   when there is one, else from the beginning of the log.
 *
 * - A stale holder's commit publish that was already on the wire when its
 *   lease lapsed may land after the takeover scan (its revision check passes
 *   while the new owner has not committed that instance). So one late scan,
 *   a request timeout after the takeover, reads the commits that landed since
 *   and resends those this owner did not make; the mark stays at the end of
 *   the takeover scan until it has run.
 */
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { backgroundError, relayFailed } from '../logging/nats-events.ts';
import type { CommitLog } from './commit-log.ts';
import type { HubResources } from './hub-resources.ts';
import { requestMux } from './request-mux.ts';
import { decodeJson, encodeJson, type CommitBody } from './wire.ts';

/** A commit being published; its sequence will be above `floor`. */
export interface CommitTicket {
  readonly floor: number;
}

interface RelayMark {
  readonly sentUpTo: number;
  readonly worker: string;
  readonly at: number;
}

/** Upper bound on commits one takeover scan reads (a safety net for the loop). */
const MAX_SCAN = 10_000_000;
const RETRY_DELAY_MS = 1_000;
const MAX_RETRIES = 10;
/**
 * The late scan runs this long after the takeover: past the reply timeout of
 * a publish (request-mux), by which a stale holder's publish has landed or failed.
 */
const LATE_SCAN_DELAY_MS = 6_000;

/** Key of a partition's relay mark in the instance bucket. */
export function relayMarkKey(partition: number): string {
  return `=relay.${partition}`;
}

export class OutboxRelay {
  /** Highest commit sequence of the partition this owner knows of. */
  private highest = 0;
  private readonly inFlight = new Set<CommitTicket>();
  /** Commits whose outbox is not sent yet, by sequence. */
  private readonly pending = new Set<number>();
  private written = -1;
  private ready = false;
  private stopped = false;
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Commits this owner made since its takeover scan, until the late scan has run. */
  private own: Set<number> | undefined;

  constructor(
    private readonly res: HubResources,
    private readonly commitLog: CommitLog,
    readonly partition: number,
    private readonly log: Logger,
  ) {}

  /** Registers a commit about to be published. */
  begin(): CommitTicket {
    const ticket = { floor: this.highest };
    this.inFlight.add(ticket);
    return ticket;
  }

  /** The publish failed: the commit does not exist. */
  abort(ticket: CommitTicket): void {
    this.inFlight.delete(ticket);
  }

  /** The commit landed at `seq`; its outbox is to be sent. */
  committed(ticket: CommitTicket, seq: number): void {
    this.inFlight.delete(ticket);
    if (seq > this.highest) this.highest = seq;
    this.pending.add(seq);
    this.own?.add(seq);
  }

  /** The outbox (and records) of commit `seq` are stored. */
  sent(seq: number): void {
    this.pending.delete(seq);
  }

  /** Retries a failed send later (bounded); the mark waits for it meanwhile. */
  retry(seq: number, send: () => Promise<void>, attempt = 1): void {
    if (this.stopped || attempt > MAX_RETRIES) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (this.stopped) return;
      send().then(() => this.sent(seq), (err) => {
        relayFailed(this.log, this.partition, seq, err);
        this.retry(seq, send, attempt + 1);
      });
    }, RETRY_DELAY_MS * attempt);
    timer.unref();
    this.retries.add(timer);
  }

  /** Runs `task` soon, again later while it fails (bounded), until the relay stops. */
  schedule(task: () => Promise<void>, attempt = 1): void {
    if (this.stopped || attempt > MAX_RETRIES) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (this.stopped) return;
      task().catch((err) => {
        relayFailed(this.log, this.partition, -1, err);
        this.schedule(task, attempt + 1);
      });
    }, RETRY_DELAY_MS * attempt);
    timer.unref();
    this.retries.add(timer);
  }

  /** The sequence up to which every commit of the partition had its outbox sent. */
  mark(): number {
    let m = this.highest;
    for (const t of this.inFlight) if (t.floor < m) m = t.floor;
    for (const seq of this.pending) if (seq - 1 < m) m = seq - 1;
    return m;
  }

  /** Writes the mark when it moved (only after the takeover scan). */
  async writeMark(): Promise<void> {
    if (!this.ready) return;
    const m = this.mark();
    if (m <= this.written) return;
    const value: RelayMark = { sentUpTo: m, worker: this.res.options.workerId, at: Date.now() };
    await this.res.instances.put(relayMarkKey(this.partition), encodeJson(value));
    if (m > this.written) this.written = m;
  }

  /**
   * Takeover: resends the outboxes of the partition's commits after the
   * stored mark, in order, then writes the mark at the end of the log.
   * `resend` sends one commit's outbox and records.
   */
  async takeover(resend: (seq: number, body: CommitBody) => Promise<void>,
    active: () => boolean): Promise<void> {
    const from = (await this.readMark()) + 1;
    this.own = new Set();
    const last = await this.scan(from, resend, active);
    if (!active()) return;
    if (last > this.highest) this.highest = last;
    this.written = from - 1;
    this.ready = true;
    // Holds the mark at the end of this scan until the late scan has looked past it.
    const hold: CommitTicket = { floor: last };
    this.inFlight.add(hold);
    const late = setTimeout(() => {
      this.retries.delete(late);
      this.schedule(async () => {
        if (!active()) return;
        const own = this.own ?? new Set<number>();
        await this.scan(last + 1, (seq, body) => own.has(seq) ? Promise.resolve() :
          resend(seq, body), active);
        this.own = undefined;
        this.inFlight.delete(hold);
      }, 0);
    }, LATE_SCAN_DELAY_MS);
    late.unref();
    this.retries.add(late);
    await this.writeMark().catch((err) => backgroundError(this.log, 'relay mark', err));
  }

  /** Resends the commits of the partition from sequence `from` on; the last one seen. */
  private async scan(from: number, resend: (seq: number, body: CommitBody) => Promise<void>,
    active: () => boolean): Promise<number> {
    let last = from - 1;
    const { names } = this.res;
    const mux = requestMux(this.res);
    const filter = names.histPartitionFilter(this.partition);
    for (let i = 0, seq = from; i < MAX_SCAN && active(); i++) {
      const sm = await mux.directGet(names.histStream, { seq, next_by_subj: filter });
      if (!sm) break;
      const body = await this.commitLog.decode(sm);
      await resend(sm.seq, body);
      last = sm.seq;
      seq = sm.seq + 1;
    }
    return last;
  }

  private async readMark(): Promise<number> {
    const entry = await this.res.instances.get(relayMarkKey(this.partition));
    if (entry && entry.operation === 'PUT' && entry.length > 0) {
      const mark = decodeJson<RelayMark>(entry.value, 'relay mark');
      if (!Number.isInteger(mark.sentUpTo) || mark.sentUpTo < 0) {
        throw new DurableTaskError(ErrorCode.CORRUPT_HISTORY,
          `The relay mark of partition ${this.partition} is not a sequence: ` +
          `${JSON.stringify(mark.sentUpTo)}.`);
      }
      return mark.sentUpTo;
    }
    // A hub from before the mark: the old relay consumer's ack floor, if it is there.
    try {
      const info = await this.res.jsm.consumers.info(this.res.names.histStream,
        this.res.names.relayConsumer(this.partition));
      return info.ack_floor.stream_seq;
    } catch {
      return 0;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
  }
}
