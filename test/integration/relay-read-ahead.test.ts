/**
 * The relay's read ahead (outbox-relay-store.ts fetchUnpublished with the batch in flight): the next batch is read
 * while one is published. The rows of the batch in flight do not hold their distributions back (a backlog spread
 * over many distributions would otherwise read ahead nothing), while an unpublished row outside it, before the
 * cursor (one that committed late, or failed), still holds its distribution back.
 */
import t from 'tap';
import pg from 'pg';
import { fetchUnpublished } from '../../src/persistence/outbox-relay-store.js';
import { startTestApp } from '../helpers/app.js';

const { db } = await startTestApp(t, { env: { RELAY_ENABLED: 'false', CONSUMER_ENABLED: 'false' } });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
t.teardown(() => client.end());

/** Unpublished rows with the given ids and distributions (ids chosen, so their order is the test's). */
async function rows(spec: Array<[number, string]>): Promise<void> {
  await client.query(
    `insert into outbox_event (id, event_id, event_type, subject, aggregate_id, tenant_id, envelope)
     select r.id, 'evt_' || r.id, 'distribution.updated', 'distribution.updated.' || r.agg, r.agg, 'ahead', '{}' from unnest($1::bigint[], $2::text[]) as r(id, agg)`,
    [spec.map(([id]) => id), spec.map(([, agg]) => agg)],
  );
}
const ids = (read: Array<{ id: string }>) => read.map((row) => Number(row.id));

t.test('when the next batch is read while one is published, then the batch in flight does not hold its distributions back, a late row still does', async (t) => {
  // dist_c's row 5 committed late: the relay's batch (10..13) was read without it.
  await rows([
    [10, 'dist_a'],
    [11, 'dist_b'],
    [12, 'dist_a'],
    [13, 'dist_b'],
    [14, 'dist_a'],
    [15, 'dist_c'],
  ]);
  await rows([[5, 'dist_c']]);
  const inFlight = ['10', '11', '12', '13'];
  t.strictSame(ids(await fetchUnpublished(client, 4, '13', inFlight)), [14], "dist_a's next row is read ahead; dist_c's waits behind its late row 5");
  t.strictSame(ids(await fetchUnpublished(client, 4, '13')), [], 'without the batch in flight named, nothing is read ahead');
  t.strictSame(ids(await fetchUnpublished(client, 10)), [5, 10, 11, 12, 13, 14, 15], 'from the start, every row in id order');
});
