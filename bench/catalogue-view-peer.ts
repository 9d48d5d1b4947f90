/**
 * The peer of the log_view benchmark: the event catalogue's own design of a view (its service.py), on the same
 * services framework, connection and database pool as the service: one `UPDATE ... + 1` and one direct
 * `js.publish` of a distribution.viewed per view (awaiting its PubAck), then the reply. No batching, no outbox,
 * no validation: what the catalogue describes, and the cheapest form of it.
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { buildEnvelope } from '../src/contracts/envelope.js';
import type { Sql } from '../src/persistence/database.js';
import { withPrefix } from '../src/messaging/subjects.js';

export interface CatalogueViewPeer {
  /** Request `{ id, referrer_category }` here; the reply is `{ distribution_id, view_count }`. */
  subject: string;
  stop(): Promise<void>;
}

export async function startCatalogueViewPeer(deps: { nc: NatsConnection; db: Sql; subjectPrefix: string; newId: (prefix: 'evt' | 'corr') => string }): Promise<CatalogueViewPeer> {
  const js = jetstream(deps.nc);
  const subject = withPrefix(deps.subjectPrefix, 'bench.catalogue_log_view');
  const service = await new Svcm(deps.nc).add({ name: 'bench_catalogue_peer', version: '0.0.1', queue: 'bench_catalogue_peer' });
  service.addEndpoint('log_view', {
    subject,
    handler: (_err, msg) => {
      void (async () => {
        const { id, referrer_category } = msg.json<{ id: string; referrer_category?: string }>();
        const [row] = await deps.db.execute<{ view_count: string; slug: string; tenant_id: string }>(
          'update distribution set view_count = view_count + 1 where id = ? and deleted_at is null returning view_count, slug, tenant_id',
          [id],
        );
        if (!row) return msg.respondError(404, 'not found');
        const now = new Date().toISOString();
        const payload = { distribution_id: id, slug: row.slug, view_count: Number(row.view_count), viewed_at: now, referrer_category: referrer_category ?? 'unknown' };
        const envelope = buildEnvelope(
          { type: 'distribution.viewed', payload },
          { eventId: deps.newId('evt'), timestamp: now, tenantId: row.tenant_id, correlationId: deps.newId('corr'), causationId: null },
        );
        await js.publish(withPrefix(deps.subjectPrefix, `distribution.viewed.${id}`), JSON.stringify(envelope), { msgID: envelope.id });
        msg.respond(JSON.stringify({ distribution_id: id, view_count: payload.view_count }));
      })().catch((err: unknown) => msg.respondError(500, err instanceof Error ? err.message : String(err)));
    },
  });
  return { subject, stop: async () => void (await service.stop()) };
}
