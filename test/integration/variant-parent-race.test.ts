/**
 * A variant and the delete of its parent on two instances at once. The mailbox serialises them only within one
 * process; across instances the parent's row lock must: either the delete sees the new variant (409 HAS_VARIANTS)
 * or the variant sees the deleted parent (409 PARENT_DELETED), never both succeed.
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

t.test('when a variant is created on one instance while another deletes its parent, then no live variant of a deleted parent remains', async (t) => {
  const db = await createTestDatabase(t);
  // Two instances on one database, each on its own subjects, so each request reaches the instance it is sent to.
  const creator = await startTestApp(t, { db });
  const deleter = await startTestApp(t, { db });
  const tenant = 'race';
  const parent = (await creator.call(tenant, 'create', { course_id: 'course_race', language: 'de', title: 'Eltern' })).body as { id: string };

  // The variant's insert takes a second, so the delete arrives while the variant's transaction is open.
  await db.query(`create function slow_variant() returns trigger language plpgsql as $$
    begin if new.derived_from is not null then perform pg_sleep(1); end if; return new; end $$`);
  await db.query(`create trigger slow_variant before insert on distribution for each row execute function slow_variant()`);

  const variant = creator.call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['students'] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const deleted = deleter.call(tenant, 'delete', { id: parent.id, deleted_by: 'user_1' });
  const [variantReply, deleteReply] = await Promise.all([variant, deleted]);

  t.notSame([variantReply.status, deleteReply.status], [200, 200], 'not both succeeded');
  const { rows } = await db.query(
    `select c.id from distribution c join distribution p on p.id = c.derived_from
      where c.deleted_at is null and p.deleted_at is not null`,
  );
  t.same(rows, [], 'no live variant of a deleted parent');
  if (variantReply.status === 200) t.equal(deleteReply.body.error?.code, 'HAS_VARIANTS', 'the delete saw the variant');
  else t.equal(variantReply.body.error?.code, 'PARENT_DELETED', 'the variant saw the deleted parent');
});
