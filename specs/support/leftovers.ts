import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Backend } from '../../src/core/backend.ts';
import type { MemoryBackend } from '../../src/memory/index.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { encodeInstanceId, HubNames } from '../../src/nats/names.ts';
import { NATS_TEST_PARTITIONS } from './backends.ts';
import { sharedNatsUrl } from './shared-nats.ts';

/**
 * Messages still queued anywhere for an instance: on memory its queue, its
 * activities and timers; on NATS its subjects in the orchestration and
 * activity streams and its keys in the timer index (history is no queue).
 */
export async function leftoverMessages(backend: Backend, instanceId: string): Promise<number> {
  if (backend.kind === 'memory') return (backend as MemoryBackend).queuedFor(instanceId);
  const names = new HubNames((backend as NatsBackend).hub, NATS_TEST_PARTITIONS);
  const p = names.partitionOf(instanceId);
  const token = encodeInstanceId(instanceId);
  const nc = await connect({ servers: await sharedNatsUrl() });
  try {
    const jsm = await jetstreamManager(nc);
    let n = 0;
    for (const [stream, subject] of [
      [names.orchStream, names.orchSubject(p, token)],
      [names.actStream, names.actSubject(p, token)],
      [`KV_${names.timersBucket}`, `$KV.${names.timersBucket}.${names.timerInstanceFilter(p,
        token)}`],
    ] as const) {
      const info = await jsm.streams.info(stream, { subjects_filter: subject });
      n += Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    }
    return n;
  } finally {
    await nc.close();
  }
}
