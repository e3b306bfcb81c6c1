import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { createNatsBackend } from '../../src/nats/index.ts';
import { uniqueHubName } from '../support/nats-server.ts';
import { sharedNatsUrl, stopSharedNatsServer } from '../support/shared-nats.ts';

describe('createNatsBackend options', () => {
  after(() => stopSharedNatsServer());

  it('should refuse a bad option before it connects', async () => {
    // Nothing listens at this address: the option check must come first.
    await assert.rejects(createNatsBackend({ servers: 'nats://127.0.0.1:1', hub: 'h',
      leaseMs: 1e10 }), (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /'leaseMs'/.test(
      e.message));
  });

  it('should refuse a misspelled option before it connects, suggesting the known one',
    async () => {
    // Nothing listens at this address: the name check must come first.
    await assert.rejects(createNatsBackend({ servers: 'nats://127.0.0.1:1', hub: 'h',
      leasems: 100 } as never), (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') &&
      e.message === "Unknown NATS backend option 'leasems' (did you mean 'leaseMs'?).");
  });

  it('should refuse servers that are not URLs with INVALID_ARGUMENT', async () => {
    await assert.rejects(createNatsBackend({ servers: 'not a url', hub: 'h' }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /'servers'.*not a url/.test(e.message));
  });

  it('should refuse an inline payload limit larger than the server takes in one message',
    async () => {
    const servers = await sharedNatsUrl();
    await assert.rejects(createNatsBackend({ servers, hub: uniqueHubName('bo'),
      payloadLimitBytes: 16 * 1024 * 1024 }), (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') &&
      /'payloadLimitBytes'.*max_payload/.test(e.message));
    const ok = await createNatsBackend({ servers, hub: uniqueHubName('bo'),
      payloadLimitBytes: 256 * 1024 });
    await ok.close();
  });
});
