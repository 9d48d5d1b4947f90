/**
 * ops.dead_letter with a letter too large for one NATS message: the reply carries as much of the original bytes as
 * fits under the server's max_payload, `truncated: true` and the original size, instead of no answer at all.
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { opsRequest } from '../helpers/ops.js';

const { db, nc, namespace } = await startTestApp(t);

let stored = 0;
async function storeLetter(data: Buffer): Promise<number> {
  // one open letter per message id (dead_letter_open_message_uq): each letter its own message
  const result = await db.query<{ id: string }>(
    `insert into dead_letter (consumer, message_id, subject, headers, data, reason, delivery_count, stream, stream_seq)
     values ('distribution_consumer', $2, 'course.generation.completed', '{}'::jsonb, $1, 'too large', 1, 'COURSE', 1) returning id`,
    [data, `msg_big_${++stored}`],
  );
  return Number(result.rows[0]!.id);
}

t.test('when a dead letter is larger than the max payload, then ops.dead_letter answers with its bytes cut, truncated: true and the original size', async (t) => {
  const maxPayload = nc.info!.max_payload;
  const original = Buffer.from('ä'.repeat(Math.ceil(maxPayload / 2) + 1000), 'utf8'); // > max_payload bytes, multi-byte UTF-8
  t.ok(original.length > maxPayload, `the letter (${original.length} bytes) exceeds max_payload (${maxPayload})`);
  const id = await storeLetter(original);
  const reply = await opsRequest(nc, namespace.id, 'dead_letter', { id });
  t.equal(reply.status, 200, `answered 200 (got ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)})`);
  t.equal(reply.body.id, id);
  t.equal(reply.body.truncated, true);
  t.equal(reply.body.original_size, original.length);
  const cut = Buffer.from(reply.body.data_base64, 'base64');
  t.ok(cut.length > 0 && cut.length < original.length, `a part of the bytes (${cut.length})`);
  t.ok(original.subarray(0, cut.length).equals(cut), 'the first bytes of the original');
  t.type(reply.body.data_text, 'string', 'the text of the part that was kept');
  t.ok(original.toString('utf8').startsWith(reply.body.data_text as string), 'cut at a character boundary');
});

t.test('when a dead letter fits, then ops.dead_letter answers with all of it and truncated: false', async (t) => {
  const original = Buffer.from('{"hello":"world"}');
  const id = await storeLetter(original);
  const reply = await opsRequest(nc, namespace.id, 'dead_letter', { id });
  t.equal(reply.status, 200);
  t.equal(reply.body.truncated, false);
  t.equal(reply.body.original_size, original.length);
  t.equal(reply.body.data_base64, original.toString('base64'));
  t.equal(reply.body.data_text, '{"hello":"world"}');
});
