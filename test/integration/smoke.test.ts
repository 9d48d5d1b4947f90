import t from 'tap';
import { startTestApp } from '../helpers/app.js';

const { call, db } = await startTestApp(t);

t.test('when a distribution is created over NATS, then it is returned and its event is in the outbox', async (t) => {
  const reply = await call('brain_prod', 'create', { course_id: 'course_456def', title: 'Alternativen zu Banken & Sparkassen', language: 'de' });
  t.equal(reply.status, 200);
  t.match(reply.body, { slug: 'alternativen-zu-banken-und-sparkassen', visibility: 'private', version: 'v1', row_version: 1 });
  const outbox = await db.query(`select event_type, subject from outbox_event`);
  t.same(outbox.rows, [{ event_type: 'distribution.created', subject: `distribution.created.${reply.body.id}` }]);
});
